# SPDX-License-Identifier: Apache-2.0
"""The ``imgsim`` command: index, query, list, report and audit cases, and manage known-file hash
sets, headless, over the core API.

One module per command group registers its sub-commands; they are imported inside :func:`main`, so
that a library that cannot load (a broken installation or bundle) is one line naming it, never a
traceback. Exit status: 0 success, 1 failure (one line on stderr, no traceback for expected
errors), 2 usage error. Progress bars (tqdm) go to stderr, only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from imgsim_desktop import __version__
from imgsim_desktop.start_failure import LOAD_ERRORS, describe

#: Exit status when the command cannot start (the same as a failure, as in cli.common).
EXIT_CANNOT_START = 1


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command. Imports the command modules, and through them the engine's
    libraries (numpy, Pillow, hnswlib, ...): :func:`main` calls it inside its start-up guard."""
    from imgsim_desktop.cli import (
        case_commands,
        hashset_commands,
        library_commands,
        registry_commands,
        report_command,
    )
    from imgsim_desktop.cli.common import Parser

    command_groups = (
        case_commands,
        registry_commands,
        report_command,
        library_commands,
        hashset_commands,
    )
    parser = Parser(
        prog="imgsim",
        description="Offline image similarity search over a case folder. "
        "The case folder is only read; everything imgsim makes lives in its data folder "
        "(IMGSIM_HOME overrides it).",
    )
    parser.add_argument("--version", action="version", version=f"imgsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in command_groups:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        from imgsim_desktop.cli.common import EXIT_FAILURE, EXIT_USAGE, UsageError
        from imgsim_desktop.core import ImgsimError
    except LOAD_ERRORS as exc:  # a broken installation or bundle: one line, never a traceback
        print(f"imgsim: cannot start: {describe(exc)}", file=sys.stderr)
        return EXIT_CANNOT_START
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
    except ImportError as exc:  # a library imported on first use (the model's) cannot load
        print(f"imgsim: error: {describe(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("imgsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
