# SPDX-License-Identifier: Apache-2.0
"""``imgsim hashset import|list|remove``: this user's known-file hash sets (shared by all cases)."""

from __future__ import annotations

import argparse
import sys

from imgsim_desktop.cli.common import EXIT_OK, emit, warn
from imgsim_desktop.core import ProgressEvent
from imgsim_desktop.core.store.known.hashset_formats import HashSetFormat
from imgsim_desktop.core.store.known.hashsets import (
    HashSetInfo,
    import_hash_set,
    list_hash_sets,
    remove_hash_set,
)


def _summary(info: HashSetInfo) -> str:
    kinds = ", ".join(f"{count} {kind.upper()}" for kind, count in info.by_algorithm.items())
    return f"{info.name}: {info.entries} hashes ({kinds}) from {info.source} [{info.format}]"


def _progress(enabled: bool):
    def show(event: ProgressEvent) -> None:
        if enabled:
            print(f"\r{event.message}", end="", file=sys.stderr, flush=True)

    return show


def cmd_import(args: argparse.Namespace) -> int:
    tty = sys.stderr.isatty()
    try:
        info = import_hash_set(
            args.file,
            args.name,
            fmt=args.format,
            column=args.column,
            replace=args.replace,
            progress=_progress(tty),
        )
    finally:
        if tty:
            print(file=sys.stderr)
    if args.json:
        emit(info.to_json())
    else:
        print(f"imported {_summary(info)} in {info.seconds:.1f}s")
    if info.skipped:
        warn(f"{info.skipped} line(s) or record(s) held no MD5, SHA-1 or SHA-256 and were skipped")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    for info in list_hash_sets():
        if args.json:
            emit(info.to_json())
        else:
            print(f"{_summary(info)}, imported {info.imported_utc}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    info = remove_hash_set(args.name)
    print(f"removed {_summary(info)}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``hashset`` and its sub-commands to the ``imgsim`` parser."""
    group = sub.add_parser(
        "hashset",
        help="known-file hash sets (MD5/SHA-1/SHA-256): results they hold are flagged 'known'",
    )
    commands = group.add_subparsers(
        dest="hashset_command", required=True, metavar="{import,list,remove}"
    )

    p = commands.add_parser("import", help="import a hash set file under a name")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", required=True, help="the set's name, shown as 'known' in results")
    p.add_argument(
        "--format",
        choices=[f.value for f in HashSetFormat],
        default=HashSetFormat.AUTO.value,
        help="list (one hash per line), csv (a hash column), vics (Project VIC JSON), "
        "nsrl (NSRL RDSv3 SQLite); default: told by content",
    )
    p.add_argument("--column", metavar="NAME", help="the CSV column holding the hashes")
    p.add_argument("--replace", action="store_true", help="replace a set of the same name")
    p.add_argument("--json", action="store_true", help="print the set's description as JSON")
    p.set_defaults(run=cmd_import)

    p = commands.add_parser("list", help="list the imported hash sets")
    p.add_argument("--json", action="store_true", help="one JSON object per line per set")
    p.set_defaults(run=cmd_list)

    p = commands.add_parser("remove", help="remove a hash set")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(run=cmd_remove)
