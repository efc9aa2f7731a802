# SPDX-License-Identifier: Apache-2.0
"""Headless screenshot mode: case → index → query → thumbnails loaded → PNG → quit.

Used for documentation and acceptance checks; it drives the real window through its public
signals, so what it saves is what a user would see.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from imgsim_desktop.ui.dialogs import error_text
from imgsim_desktop.ui.mainwindow import MainWindow
from imgsim_desktop.ui.results.model import LoadedRole
from imgsim_desktop.ui.session import IndexEnd, IndexOutcome

POLL_MS = 100
SCREENSHOT_SIZE = (1440, 900)


class ScreenshotRun(QObject):
    """Runs the sequence; ``exit_code`` is 0 once the PNG is written."""

    def __init__(
        self, window: MainWindow, case: Path, query: Path, out: Path, timeout_s: float
    ) -> None:
        super().__init__(window)
        self.window, self.case, self.query, self.out = window, case, query, out
        self.exit_code = 1
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._give_up)
        self._deadline.start(int(timeout_s * 1000))

    def start(self) -> None:
        self.window.resize(SCREENSHOT_SIZE[0], SCREENSHOT_SIZE[1])
        self.window.interactive = False  # nothing is forgotten or relinked unasked
        self.window.open_case(self.case)
        session = self.window.session
        if session is None:
            self._finish(1, "the case could not be opened")
            return
        session.bind(session.index_ended, self._on_indexed)
        session.bind(
            session.error, lambda title, exc: self._finish(1, f"{title}: {error_text(exc)}")
        )
        self.window.results_shown.connect(lambda _n: self._timer.start())

    def _on_indexed(self, outcome: IndexOutcome) -> None:
        if outcome.end is not IndexEnd.FINISHED:
            reason = error_text(outcome.error) if outcome.error else outcome.end.value
            self._finish(1, f"indexing did not finish: {reason}")
            return
        self.window.run_query(self.query)

    def _visible_loaded(self) -> bool:
        """Every tile in the viewport shows its thumbnail (or its thumbnail failed)."""
        view = self.window.view
        proxy = view.model()
        viewport = view.viewport().rect()
        for row in range(proxy.rowCount()):
            index = proxy.index(row, 0)
            if not view.visualRect(index).intersects(viewport):
                continue
            row = proxy.mapToSource(index).row()
            key = self.window.model.request(row).key
            if not index.data(LoadedRole) and key not in self.window.thumbnails.failures:
                return False
        return True

    def _poll(self) -> None:
        has_rows = self.window.model.rowCount() > 0
        if self._visible_loaded() and (self.window.detail.preview.has_picture() or not has_rows):
            self._timer.stop()
            QApplication.processEvents()
            self.out.parent.mkdir(parents=True, exist_ok=True)
            if not self.window.grab().save(str(self.out), "PNG"):
                self._finish(1, f"cannot write {self.out}")
                return
            self._finish(0, f"saved {self.out}")

    def _give_up(self) -> None:
        self._finish(1, "timed out waiting for indexing, the query or the thumbnails")

    def _finish(self, code: int, message: str) -> None:
        if code:
            print(f"imgsim-desktop: {message}", file=sys.stderr)
        self.exit_code = code
        self._timer.stop()
        self._deadline.stop()
        self.window.close()
        QApplication.quit()
