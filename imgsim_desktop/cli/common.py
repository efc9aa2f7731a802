# SPDX-License-Identifier: Apache-2.0
"""What every ``imgsim`` command shares: exit codes, JSON output, progress bars, usage errors."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from imgsim_desktop.core import ProgressEvent

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command line that cannot be run (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


class ProgressBars:
    """One tqdm bar per stage of long work, drawn only on a terminal."""

    def __init__(self, enabled: bool, stages: tuple[str, ...] = ("embed",)) -> None:
        self._enabled = enabled
        self._stages = stages
        self._bar: Any = None
        self._stage = ""

    def __call__(self, event: ProgressEvent) -> None:
        if not self._enabled or event.stage not in self._stages:
            return
        if self._bar is None or event.stage != self._stage:
            from tqdm import tqdm

            self.close()
            self._stage = event.stage
            desc = "embedding" if event.stage == "embed" else event.stage
            self._bar = tqdm(total=event.total, desc=desc, unit="img", file=sys.stderr)
        self._bar.update(event.done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def emit(obj: dict) -> None:
    """Print one JSON object on its own line."""
    text = json.dumps(obj, ensure_ascii=False)
    # a folder name that is not valid UTF-8 carries lone surrogates: print them escaped
    sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"imgsim: warning: {message}", file=sys.stderr)


def brief(value: object) -> str:
    """A value shortened for one line of human output."""
    if isinstance(value, list) and len(value) > 3:
        return f"[{len(value)} items]"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def add_near_copy_argument(p: argparse.ArgumentParser) -> None:
    """``--near-copy-threshold``: the PDQ distance at or under which a result is a near copy."""
    p.add_argument(
        "--near-copy-threshold",
        type=int,
        default=31,
        metavar="BITS",
        help="PDQ distance (of 256 bits) at or under which a result is a near copy (default 31)",
    )
