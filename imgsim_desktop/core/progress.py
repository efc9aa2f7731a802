# SPDX-License-Identifier: Apache-2.0
"""Progress reporting and cooperative cancellation for long core work.

Long operations take two optional callables: ``progress(event)`` receives
:class:`ProgressEvent` values, and ``cancel()`` returns True when the caller wants the work to
stop. The CLI draws a progress bar from the events; the GUI forwards them through Qt signals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from imgsim_desktop.core.errors import Cancelled


@dataclass(frozen=True)
class ProgressEvent:
    """One step of long work.

    Attributes:
        stage: what is happening ("scan", "embed", "index").
        done: units finished so far in this stage.
        total: units in this stage (0 when not yet known).
        message: a short human-readable note (e.g. the current file).
    """

    stage: str
    done: int
    total: int
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]
CancelCheck = Callable[[], bool]


def no_progress(event: ProgressEvent) -> None:
    """The default progress callback: ignore the event."""


def never_cancel() -> bool:
    """The default cancel check: never stop."""
    return False


class Reporter:
    """Throttles progress events and turns a cancel request into :class:`Cancelled`."""

    def __init__(
        self,
        progress: ProgressCallback | None,
        cancel: CancelCheck | None,
        min_interval: float = 0.1,
    ) -> None:
        self._progress = progress or no_progress
        self._cancel = cancel or never_cancel
        self._min_interval = min_interval
        self._last = 0.0

    def report(
        self, stage: str, done: int, total: int, message: str = "", force: bool = False
    ) -> None:
        """Send an event, at most every ``min_interval`` seconds unless ``force`` or finished."""
        now = time.monotonic()
        if force or done >= total or now - self._last >= self._min_interval:
            self._last = now
            self._progress(ProgressEvent(stage, done, total, message))

    def check_cancel(self) -> None:
        """Raise :class:`Cancelled` when the caller asked to stop."""
        if self._cancel():
            raise Cancelled("cancelled by the user")
