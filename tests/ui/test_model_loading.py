# SPDX-License-Identifier: Apache-2.0
"""The window is on screen before the model has loaded; the query pane says so, and a query
dropped meanwhile is kept and runs once the model is ready (the load held at a gate)."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tests.ui.fakes import GatedEmbedder, is_query_call, make_case

GATE_TIMEOUT_S = 10


class HeldLoad:
    """Stands for ``preload_libraries``: blocks until the test opens ``gate`` (or times out)."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.done = threading.Event()
        self.on_gui_thread: list[bool] = []

    def __call__(self) -> None:
        self.on_gui_thread.append(threading.current_thread() is threading.main_thread())
        self.entered.set()
        self.gate.wait(GATE_TIMEOUT_S)
        self.done.set()


def drop_file(window, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPoint(10, 10).toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.query_pane.drop_zone.dropEvent(event)


class QueryCounter(GatedEmbedder):
    """Counts the queries embedded (a query's first call: its upright view, for the preview)."""

    queries = 0

    def embed(self, images):
        if is_query_call() and len(images) == 1:
            QueryCounter.queries += 1
        return super().embed(images)


def test_window_shows_before_the_model_loads_and_a_drop_waits_for_it(
    qtbot, make_window, monkeypatch, tmp_path: Path
) -> None:
    held = HeldLoad()
    monkeypatch.setattr("imgsim_desktop.ui.model_guard.preload_libraries", held)
    case = make_case(tmp_path / "case", 8)
    QueryCounter.queries = 0
    try:
        window = make_window(QueryCounter(), wait_for_model=False)
        qtbot.waitExposed(window)
        qtbot.waitUntil(held.entered.is_set, timeout=GATE_TIMEOUT_S * 1000)
        assert not held.done.is_set(), "the window was shown only after the model had loaded"
        assert held.on_gui_thread == [False]
        pane = window.query_pane
        assert pane.model_line.isVisibleTo(window) and pane.model_line.text() == (
            "Loading the model…"
        )
        window.open_case(case)  # indexing does not wait for the model
        qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
        assert window.index_panel.label.text().startswith("Index up to date: 8 new")

        drop_file(window, case / "img003.png")
        qtbot.wait(300)
        assert window.model.rowCount() == 0 and QueryCounter.queries == 0
        assert pane.searched.text() == "waits for the model to load…"
        with qtbot.waitSignal(window.results_shown, timeout=20000):
            held.gate.set()
        assert window.model.record(0).path == "img003.png"
        assert QueryCounter.queries == 1  # the kept drop ran once
        assert not pane.model_line.isVisibleTo(window) and window.model_ready
        assert window.warnings == []
    finally:
        held.gate.set()
