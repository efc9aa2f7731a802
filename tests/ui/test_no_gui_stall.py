# SPDX-License-Identifier: Apache-2.0
"""No image is decoded on the GUI thread (the query preview, dropped image data), and a model or
library that cannot load is one message box naming the cause, never a traceback; the window goes
on working."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.core.evidence import thumbs
from tests.ui.fakes import GatedEmbedder, make_case


def on_gui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_the_query_preview_is_decoded_off_the_gui_thread(
    qtbot, make_window, monkeypatch, tmp_path: Path
) -> None:
    decoded_on_gui_thread: list[bool] = []

    def spy(path: Path, side: int) -> thumbs.Thumbnail:
        decoded_on_gui_thread.append(on_gui_thread())
        return thumbs.make_thumbnail(path, side)

    monkeypatch.setattr("imgsim_desktop.ui.query_pane.make_thumbnail", spy, raising=False)
    image = make_case(tmp_path / "q", 1)
    window = make_window(GatedEmbedder())
    zone = window.query_pane.drop_zone
    window.query_pane.show_pending(image / "img000.png")
    assert zone.pixmap().isNull()  # not decoded in the call on the GUI thread
    qtbot.waitUntil(lambda: not zone.pixmap().isNull(), timeout=10000)
    assert decoded_on_gui_thread == [False]


def test_dropped_image_data_is_decoded_and_saved_off_the_gui_thread(
    qtbot, make_window, monkeypatch, tmp_path: Path
) -> None:
    import imgsim_desktop.ui.query_pane as query_pane

    saved_on_gui_thread: list[bool] = []
    real = query_pane.save_pasted_image

    def spy(data):
        saved_on_gui_thread.append(on_gui_thread())
        return real(data)

    monkeypatch.setattr(query_pane, "save_pasted_image", spy)
    png = (make_case(tmp_path / "q", 1) / "img000.png").read_bytes()
    window = make_window(GatedEmbedder())
    requested: list[str] = []
    window.query_pane.query_requested.disconnect()
    window.query_pane.query_requested.connect(requested.append)
    mime = QMimeData()
    mime.setData("image/png", QByteArray(png))
    assert window.query_pane.drop_zone.accept_mime(mime)
    assert requested == []  # nothing decoded or written in the call on the GUI thread
    qtbot.waitUntil(lambda: bool(requested), timeout=10000)
    assert saved_on_gui_thread == [False] and Path(requested[0]).read_bytes()[:4] == b"\x89PNG"


def test_libraries_that_cannot_load_are_a_message_box(
    qtbot, make_window, monkeypatch, tmp_path: Path
) -> None:
    def missing_torch() -> None:
        raise ModelError("PyTorch/timm are not installed: No module named 'torch'")

    monkeypatch.setattr("imgsim_desktop.ui.model_guard.preload_libraries", missing_torch)
    window = make_window(GatedEmbedder())  # no traceback: the window is made
    qtbot.waitUntil(lambda: bool(window.warnings), timeout=5000)
    assert window.warnings == [
        ("The model cannot load", "PyTorch/timm are not installed: No module named 'torch'")
    ]
    window.open_case(make_case(tmp_path / "case", 3))  # what can work still works
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    assert window.index_panel.label.text().startswith("Index up to date: 3 new")


class BrokenTorch(GatedEmbedder):
    """An embedder whose native library fails to load on first use."""

    calls = 0

    def embed(self, images):
        BrokenTorch.calls += 1
        raise ImportError("libtorch_cpu.so: cannot open shared object file: No such file")


def test_a_model_that_fails_on_first_use_is_one_message_box(
    qtbot, make_window, tmp_path: Path
) -> None:
    case = make_case(tmp_path / "case", 40)
    BrokenTorch.calls = 0
    window = make_window(BrokenTorch())
    window.open_case(case)
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    qtbot.waitUntil(lambda: bool(window.warnings), timeout=5000)
    qtbot.wait(200)
    assert len(window.warnings) == 1
    title, text = window.warnings[0]
    assert title == "The model cannot load" and "libtorch_cpu.so" in text
    assert BrokenTorch.calls == 1  # remembered, not retried for every image
    window.run_query(case / "img000.png")  # the window goes on; the query says why it cannot
    qtbot.waitUntil(lambda: len(window.warnings) == 2, timeout=10000)
    assert window.warnings[1][0] == "Search failed" and "libtorch_cpu.so" in window.warnings[1][1]
