# SPDX-License-Identifier: Apache-2.0
"""The ``imgsim`` command: index, query, list, report and audit cases, and manage known-file hash
sets, headless, over the core API.

One module per command group registers its sub-commands. Exit status: 0 success, 1 failure (one
line on stderr, no traceback for expected errors), 2 usage error. Progress bars (tqdm) go to
stderr, only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from imgsim_desktop import __version__
from imgsim_desktop.cli import (
    case_commands,
    find_command,
    hashset_commands,
    library_commands,
    registry_commands,
    report_command,
)
from imgsim_desktop.cli.common import EXIT_FAILURE, EXIT_USAGE, Parser, UsageError
from imgsim_desktop.core import ImgsimError

COMMAND_GROUPS = (
    case_commands,
    find_command,
    registry_commands,
    report_command,
    library_commands,
    hashset_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="imgsim",
        description="Offline image similarity search over a case folder. "
        "The case folder is only read; everything imgsim makes lives in its data folder "
        "(IMGSIM_HOME overrides it).",
    )
    parser.add_argument("--version", action="version", version=f"imgsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except UsageError as exc:
        print(f"imgsim: usage error: {exc}", file=sys.stderr)
        print(parser.format_usage().rstrip(), file=sys.stderr)
        return EXIT_USAGE
    except ImgsimError as exc:
        print(f"imgsim: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("imgsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
