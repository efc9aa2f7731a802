# SPDX-License-Identifier: Apache-2.0
"""``imgsim cases`` and ``imgsim relink``: the cases this user has indexed, and moving a case's
data to where its evidence is now."""

from __future__ import annotations

import argparse
from pathlib import Path

from imgsim_desktop.cli.common import EXIT_OK, emit
from imgsim_desktop.core.store.cases.registry import known_cases, relink_case


def cmd_cases(args: argparse.Namespace) -> int:
    for info in known_cases():
        row = info.to_json()
        if args.json:
            emit(row)
        else:
            state = "available" if row["available"] else "NOT AVAILABLE"
            print(
                f"{info.id}  {row['folder']}  {info.files} files, {info.images} images, "
                f"last indexed {info.last_indexed or 'never'}  ({state})"
            )
    return EXIT_OK


def cmd_relink(args: argparse.Namespace) -> int:
    before, after = relink_case(args.old, Path(args.new))
    print(
        f"case {after.id} relinked: {before.root} -> {after.root} "
        "(catalogue, indexes, marks, notes and audit log moved; nothing re-embedded)"
    )
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``cases`` and ``relink`` to the ``imgsim`` parser."""
    p = sub.add_parser("cases", help="list the cases indexed by this user")
    p.add_argument("--json", action="store_true", help="one JSON object per line per case")
    p.set_defaults(run=cmd_cases)

    p = sub.add_parser(
        "relink",
        help="move a case's data to the folder its evidence is in now (checks the files first)",
    )
    p.add_argument("old", metavar="OLD_DIR", help="the case folder as indexed (or the case id)")
    p.add_argument("new", metavar="NEW_DIR", help="where the same evidence is now")
    p.set_defaults(run=cmd_relink)
