# SPDX-License-Identifier: Apache-2.0
"""Thumbnails come from the disk cache (keyed by SHA-256 and size, in the user cache folder):
a reopened case whose evidence has moved away (a drive not mounted) still shows every visible
tile and the detail pane's picture, and no thumbnail is decoded on the GUI thread."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from imgsim_desktop.ui.results.model import LoadedRole
from tests.ui.fakes import GatedEmbedder, make_case


def visible_rows(window) -> list:
    view, proxy = window.view, window.proxy
    port = view.viewport().rect()
    rows = [proxy.index(r, 0) for r in range(proxy.rowCount())]
    return [i for i in rows if view.visualRect(i).intersects(port)]


def all_visible_loaded(window) -> bool:
    rows = visible_rows(window)
    return bool(rows) and all(i.data(LoadedRole) for i in rows)


def search(qtbot, window, query: Path) -> None:
    with qtbot.waitSignal(window.results_shown, timeout=20000):
        window.run_query(query)
    qtbot.waitUntil(lambda: all_visible_loaded(window), timeout=20000)


def test_a_reopened_case_shows_its_thumbnails_without_the_evidence(
    qtbot, make_window, monkeypatch, tmp_path: Path
) -> None:
    import imgsim_desktop.ui.results.thumbnails as thumbnails

    threads: list[bool] = []
    real_decode = getattr(thumbnails, "jpeg_to_qimage", None)  # absent before the disk cache

    def spy(jpeg: bytes):
        threads.append(threading.current_thread() is threading.main_thread())
        return real_decode(jpeg)

    if real_decode is not None:
        monkeypatch.setattr(thumbnails, "jpeg_to_qimage", spy)
    case = make_case(tmp_path / "case", 12)
    query = tmp_path / "query.png"
    shutil.copy(case / "img004.png", query)
    window = make_window(GatedEmbedder())
    window.open_case(case)
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    search(qtbot, window, query)
    shown = len(visible_rows(window))
    assert shown >= 6
    window.close()

    case.rename(tmp_path / "moved-away")  # the evidence is gone; its folder is empty
    case.mkdir()
    again = make_window(GatedEmbedder())
    again.interactive = False  # "is the drive mounted?" is answered by changing nothing
    again.open_case(case)
    qtbot.waitUntil(lambda: not again.index_panel.cancel.isEnabled(), timeout=20000)
    search(qtbot, again, query)
    assert len(visible_rows(again)) == shown
    assert set(again.thumbnails.origins.values()) == {thumbnails.ThumbOrigin.CACHE}
    assert again.thumbnails.failures == {}
    detail = again.detail
    qtbot.waitUntil(lambda: detail.source_line.isVisibleTo(again), timeout=10000)
    assert detail.preview.has_picture() and "thumbnail kept" in detail.source_line.text()
    assert threads and not any(threads)  # every thumbnail decoded off the GUI thread
