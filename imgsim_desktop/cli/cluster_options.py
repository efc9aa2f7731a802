# SPDX-License-Identifier: Apache-2.0
"""The command-line options that send work to a Dask cluster (``index``, ``search``)."""

from __future__ import annotations

import argparse

from imgsim_desktop.cli.common import UsageError
from imgsim_desktop.core.pipeline.cases.cluster import ClusterOptions


def add_cluster_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("cluster (needs the [cluster] extra: Dask distributed)")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="use a running Dask scheduler (tls://HOST:8786)"
    )
    where.add_argument(
        "--workers", type=int, metavar="N", help="start a local cluster of N worker processes"
    )
    group.add_argument("--tls-ca-file", metavar="PEM", help="the lab's CA certificate")
    group.add_argument("--tls-cert", metavar="PEM", help="this client's certificate")
    group.add_argument("--tls-key", metavar="PEM", help="this client's private key")
    group.add_argument(
        "--insecure",
        action="store_true",
        help="allow plain tcp:// to a scheduler that is not on this machine",
    )
    group.add_argument(
        "--path-map",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="the workers see the evidence under NEW where this machine sees OLD (repeatable)",
    )


def cluster_options(args: argparse.Namespace) -> ClusterOptions | None:
    """The options given, or None to work in this process."""
    if not args.scheduler and not args.workers:
        if args.path_map or args.tls_cert or args.insecure:
            raise UsageError("--path-map, --tls-* and --insecure go with --scheduler")
        return None
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    pairs = []
    for item in args.path_map:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise UsageError(f"--path-map takes OLD=NEW, not {item!r}")
        pairs.append((old, new))
    return ClusterOptions(
        scheduler=args.scheduler,
        workers=args.workers,
        tls_ca_file=args.tls_ca_file,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        insecure=args.insecure,
        path_map=tuple(pairs),
    )
