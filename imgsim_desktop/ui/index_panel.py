# SPDX-License-Identifier: Apache-2.0
"""Indexing progress: a bar with done/total, rate and ETA, Pause/Resume, Cancel, how the last run
ended, and the files that could not be read (or are missing), with the reason (a lazily
filled list: see ``failure_model.py``).

Whatever way a run ends (finished, cancelled, refused, failed), the panel goes back to idle: its
buttons are disabled and its line says what happened and what was kept.

Signals:
    pause_toggled: (bool) True to pause.
    cancel_requested: ()
"""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop.core import IndexSummary
from imgsim_desktop.core.progress import ProgressEvent
from imgsim_desktop.ui.failure_model import FailureListModel


def finished_text(summary: IndexSummary) -> str:
    """One line for a run that completed."""
    extra = [f"{summary.missing} missing"] if summary.missing else []
    extra += [f"{summary.pending} waiting for a re-embed"] if summary.pending else []
    return (
        f"Index up to date: {summary.indexed} new, {summary.unchanged} unchanged, "
        f"{summary.removed} removed, {len(summary.failed)} unreadable"
        + "".join(f", {part}" for part in extra)
        + f" ({summary.seconds:.1f} s)"
    )


def cancelled_text(kept: IndexSummary | None) -> str:
    """One line for a cancelled run: what was kept."""
    if kept is None:
        return "Cancelled before anything was indexed; the next run starts again"
    return f"Cancelled: {kept.indexed} indexed, kept; the next run continues"


class IndexPanel(QWidget):
    """Progress of the background indexer (see signals above)."""

    pause_toggled = Signal(bool)  # paused?
    cancel_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setFormat("%v / %m")
        self.label = QLabel("No case open")
        self.label.setWordWrap(True)  # a long line (a folder path) must not widen the window
        self.pause = QPushButton("Pause")
        self.pause.setCheckable(True)
        self.pause.setToolTip("Pause indexing (queries still work on what is indexed)")
        self.pause.toggled.connect(self._on_pause)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop indexing; what is done is kept and the next run continues")
        self.cancel.clicked.connect(self.cancel_requested)
        self.failure_model = FailureListModel(self)
        self.failures = QListView()
        self.failures.setModel(self.failure_model)
        self.failures.setUniformItemSizes(True)  # no per-row size query, however many rows
        self.failures.setToolTip("Files that could not be read, with the reason")
        self.failures.setMaximumHeight(80)
        self.failures.setVisible(False)
        self.failures_title = QLabel()
        self.failures_title.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.pause)
        row.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.label)
        layout.addWidget(self.failures_title)
        layout.addWidget(self.failures)
        self._started = 0.0
        self._first_done = 0
        self.set_running(False)

    @property
    def running(self) -> bool:
        return self.cancel.isEnabled()

    def set_running(self, running: bool, text: str = "") -> None:
        """Running (buttons enabled) or idle (buttons disabled), with ``text`` as the line."""
        self.pause.setEnabled(running)
        self.cancel.setEnabled(running)
        if running:
            self._started = time.monotonic()
            self._first_done = 0
        else:
            self.pause.setChecked(False)
        if text:
            self.label.setText(text)

    def show_finished(self, summary: IndexSummary) -> None:
        total = summary.indexed + summary.unchanged
        self.bar.setMaximum(max(1, total))
        self.bar.setValue(total)
        self.set_running(False, finished_text(summary))

    def show_cancelled(self, kept: IndexSummary | None) -> None:
        self.set_running(False, cancelled_text(kept))

    def reset(self) -> None:
        """No case: idle, empty."""
        self.bar.setMaximum(1)
        self.bar.setValue(0)
        self.show_failures([])
        self.set_running(False, "No case open")

    def _on_pause(self, paused: bool) -> None:
        self.pause.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)

    def show_progress(self, event: ProgressEvent) -> None:
        if not self.running:
            return
        if event.stage != "embed":
            self.label.setText(event.message or event.stage)
            return
        self.bar.setMaximum(max(event.total, 1))
        self.bar.setValue(event.done)
        elapsed = time.monotonic() - self._started
        rate = event.done / elapsed if elapsed > 0 else 0.0
        eta = (event.total - event.done) / rate if rate > 0 else 0.0
        self.label.setText(
            f"Indexing: {event.done} of {event.total} images · {rate:.1f} images/s · "
            f"about {eta:.0f} s left" + (" · paused" if self.pause.isChecked() else "")
        )

    def show_failures(self, failures: list[tuple[str, str]]) -> None:
        """(path, reason) of each file that could not be read or is missing (kept, not copied)."""
        self.failure_model.set_failures(failures)
        self.failures_title.setText(f"{len(failures):,} files could not be read or are missing:")
        self.failures_title.setVisible(bool(failures))
        self.failures.setVisible(bool(failures))
