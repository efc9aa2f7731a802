# SPDX-License-Identifier: Apache-2.0
"""The options of a query beyond one whole image: ``--region``, ``--combine``, ``--not``,
``--save``, and the query specs they make."""

from __future__ import annotations

import argparse

from imgsim_desktop.cli.common import UsageError
from imgsim_desktop.core.errors import QueryError
from imgsim_desktop.core.pipeline.richer.combine import Combine
from imgsim_desktop.core.pipeline.richer.composite import QuerySpec
from imgsim_desktop.core.pipeline.richer.region import Region


def add_composite_arguments(p: argparse.ArgumentParser) -> None:
    """Add the region, combine, negative-example and save options to a query command."""
    p.add_argument(
        "--region",
        metavar="X,Y,W,H",
        help="search by this rectangle of the (one) query image, in its upright pixels",
    )
    p.add_argument(
        "--combine",
        choices=[c.value for c in Combine],
        help="one ranking for all the images: 'all' (what they have in common) or 'any' "
        "(each candidate's best score); without it, one ranking per image",
    )
    p.add_argument(
        "--not",
        dest="negatives",
        action="append",
        default=[],
        metavar="IMAGE",
        help="a negative example: results like it go down (repeatable)",
    )
    p.add_argument(
        "--save", metavar="NAME", help="save this query in the case as NAME (see: imgsim searches)"
    )


def query_specs(args: argparse.Namespace) -> list[QuerySpec | None]:
    """One spec per ranking asked for (None: a plain whole image, the usual query)."""
    try:
        region = Region.parse(args.region) if args.region else None
    except QueryError as exc:
        raise UsageError(str(exc)) from exc
    if region is not None and len(args.images) > 1:
        raise UsageError("--region needs exactly one IMAGE")
    negatives = tuple(args.negatives)
    if args.combine:
        return [QuerySpec(tuple(args.images), region, Combine(args.combine), negatives)]
    if region is None and not negatives:
        return [None] * len(args.images) if not args.save else [QuerySpec((args.images[0],))]
    return [QuerySpec((image,), region, None, negatives) for image in args.images]
