# SPDX-License-Identifier: Apache-2.0
"""``imgsim report``: query and write an evidence report with its SHA-256 sidecar."""

from __future__ import annotations

import argparse

from imgsim_desktop.cli.common import EXIT_OK, UsageError, add_near_copy_argument, warn
from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import ReportError


def cmd_report(args: argparse.Namespace) -> int:
    from imgsim_desktop.core.report import (
        ReportOptions,
        check_export,
        export_report,
        format_for_path,
    )

    if args.k < 1:
        raise UsageError("-k must be at least 1")
    try:
        format_for_path(args.output)
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    try:
        options = ReportOptions(
            examiner=args.examiner,
            case_number=args.case_number,
            notes=args.notes,
            marked_only=args.marked_only,
            vics_profile=args.vics_profile,
        )
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    with open_case(args.case) as case:
        check_export(case, args.output, args.force)  # refuse before any slow work
        result = case.query(
            args.image,
            k=args.k,
            all_scenes=args.all_scenes,
            hide_known=args.hide_known,
            near_copy_threshold=args.near_copy_threshold,
        )
        written = export_report(case, result, options, args.output, force=args.force)
    print(
        f"report written: {written.path} ({written.format}, {written.matches} matches)\n"
        f"sha256 {written.sha256}  (in {written.sidecar})"
    )
    if options.marked_only and not written.matches:
        warn(f"no match among the top {args.k} is marked 'include'; the report lists none")
    if written.changed:
        warn(
            f"{written.changed} reported file(s) changed since indexing "
            "or could not be read; the report flags them"
        )
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report`` to the ``imgsim`` parser."""
    p = sub.add_parser(
        "report",
        help="query and write an evidence report (.html, .pdf, .csv, .json, .vics.json for "
        "VICS 2.0 format, .jsonld for CASE/UCO; by OUT's name)",
    )
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="report file (not in the case)"
    )
    p.add_argument("-k", type=int, default=20, help="number of matches (default 20)")
    p.add_argument("--examiner", default="", metavar="NAME", help="examiner's name")
    p.add_argument("--case-number", default="", metavar="ID", help="case or exhibit number")
    p.add_argument("--notes", default="", metavar="TEXT", help="notes printed in the report")
    p.add_argument("--marked-only", action="store_true", help="only the matches marked 'include'")
    p.add_argument("--all-scenes", action="store_true", help="search every scene's index")
    p.add_argument(
        "--hide-known", action="store_true", help="leave out files a known-file hash set holds"
    )
    add_near_copy_argument(p)
    p.add_argument(
        "--vics-profile",
        default="US",
        metavar="PROFILE",
        help="Project VIC profile named in a .vics.json export (US, UK, ...; default US)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing report")
    p.set_defaults(run=cmd_report)
