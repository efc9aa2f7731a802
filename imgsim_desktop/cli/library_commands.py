# SPDX-License-Identifier: Apache-2.0
"""``imgsim archive``: past cases kept in a library folder, searchable without the evidence."""

from __future__ import annotations

import argparse
import sys

from imgsim_desktop.cli.common import EXIT_OK, ProgressBars, emit
from imgsim_desktop.core import open_case


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


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``archive`` to the ``imgsim`` parser."""
    p = sub.add_parser(
        "archive",
        help="write a case's catalogue, indexes, marks, audit log and thumbnails to a library",
    )
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("-o", "--output", metavar="LIBRARY_DIR", required=True, help="library folder")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(run=cmd_archive)
