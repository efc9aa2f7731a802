# SPDX-License-Identifier: Apache-2.0
"""``imgsim search`` and ``imgsim archive``: past cases, searched together, kept in a library
folder and searchable without the evidence."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imgsim_desktop.cli.cluster_options import add_cluster_arguments
from imgsim_desktop.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    ProgressBars,
    UsageError,
    add_near_copy_argument,
    emit,
    warn,
)
from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import NotIndexedError
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
from imgsim_desktop.core.model.scenes import bundled_head
from imgsim_desktop.core.pipeline.cases.library import open_sources, search_cases
from imgsim_desktop.core.pipeline.query import QuerySettings


def cmd_archive(args: argparse.Namespace) -> int:
    bars = ProgressBars(sys.stderr.isatty(), stages=("thumbnails",))
    with open_case(args.case) as case:
        try:
            summary = case.archive(args.output, progress=bars)
        finally:
            bars.close()
    row = {
        "archive": str(summary.path),
        "files": summary.files,
        "images": summary.images,
        "thumbnails": summary.thumbnails,
    }
    if args.json:
        emit(row)
    else:
        print(
            f"archived to {summary.path}: {summary.files} files (SHA-256 of each in "
            f"manifest.json), {summary.thumbnails} of {summary.images} images with a thumbnail"
        )
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    embedder = EfficientNetLiteEmbedder()
    head = bundled_head()
    libraries = [Path(folder).expanduser().absolute() for folder in args.library]
    sources = open_sources(embedder, args.case or None, libraries)
    try:
        for skipped in sources.skipped:
            warn(f"case {skipped['case']} not searched: {skipped['reason']}")
        if not sources.searched:
            raise NotIndexedError("no case to search (index one, or name a --library)")
        settings = QuerySettings(
            k=args.k, all_scenes=args.all_scenes, near_copy_threshold=args.near_copy_threshold
        )
        for result in search_cases(
            [Path(i) for i in args.images], sources, embedder, head, settings
        ):
            if args.json:
                emit(result.to_json())
                continue
            print(f"query {result.query_path}  sha256 {result.query_sha256}")
            print(f"  {len(result.cases_searched or [])} case(s) searched")
            for r in result.results:
                copy = f"  near copy (PDQ {r.pdq_distance})" if r.near_copy else ""
                print(f"  {r.rank:4d}  {r.score:.4f}  {r.case}  {r.path}{copy}")
    finally:
        sources.close()
    return EXIT_FAILURE if sources.skipped else EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``archive`` and ``search`` to the ``imgsim`` parser."""
    p = sub.add_parser(
        "search",
        help="rank the images of every case indexed here (and of archived cases) by similarity",
    )
    p.add_argument("images", metavar="IMAGE", nargs="+")
    p.add_argument("-k", type=int, default=20, help="number of results per query (default 20)")
    p.add_argument("--all-scenes", action="store_true", help="search every scene's index")
    p.add_argument(
        "--library",
        action="append",
        default=[],
        metavar="DIR",
        help="also search every archived case in this library folder (repeatable)",
    )
    p.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="DIR_OR_ID",
        help="search only these cases of this user (repeatable; default: all of them)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line per query")
    add_near_copy_argument(p)
    add_cluster_arguments(p)
    p.set_defaults(run=cmd_search)

    p = sub.add_parser(
        "archive",
        help="write a case's catalogue, indexes, marks, audit log and thumbnails to a library",
    )
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("-o", "--output", metavar="LIBRARY_DIR", required=True, help="library folder")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(run=cmd_archive)
