# SPDX-License-Identifier: Apache-2.0
"""The result model: Qt's model tester, thumbnails by role (only for painted tiles, never from
a replaced result set), filters and drag data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool

from imgsim_desktop.core.pipeline.search import ResultRecord
from imgsim_desktop.ui.results.model import (
    MARK_INCLUDE,
    MARK_NOT_RELEVANT,
    LoadedRole,
    MarkRole,
    ResultsFilter,
    ResultsModel,
)
from imgsim_desktop.ui.results.thumbnails import ThumbnailProvider, thumb_request
from imgsim_desktop.ui.results.view import ResultsView
from tests.conftest import FIXTURES


def records() -> list[ResultRecord]:
    paths = sorted(p for p in (FIXTURES / "case").rglob("*") if p.suffix in (".jpg", ".png"))
    return [
        ResultRecord(
            rank=i + 1,
            id=i,
            path=str(p.relative_to(FIXTURES / "case")),
            absolute_path=str(p),
            score=1.0 - i / 100,
            scene="coast" if i % 2 else "forest",
            sha256=f"{i:064x}",
            size=p.stat().st_size,
            width=320,
            height=240,
        )
        for i, p in enumerate(paths)
    ]


def test_model_passes_qt_model_tester(qtmodeltester) -> None:
    pool = QThreadPool()
    model = ResultsModel(ThumbnailProvider(pool))
    model.set_results(records())
    qtmodeltester.check(model)
    proxy = ResultsFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    pool.waitForDone()


def test_thumbnails_arrive_off_the_gui_thread(qtbot) -> None:
    pool = QThreadPool()
    model = ResultsModel(ThumbnailProvider(pool))
    model.set_results(records())
    for row in range(model.rowCount()):
        model.data(model.index(row), Qt.ItemDataRole.DecorationRole)  # queues the loads
    qtbot.waitUntil(lambda: model.loaded_count() == model.rowCount(), timeout=10000)
    pixmap = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert max(pixmap.width(), pixmap.height()) == 320
    assert model.data(model.index(0), LoadedRole)
    pool.waitForDone()


def test_a_new_result_set_drops_queued_thumbnails(qtbot) -> None:
    """Thumbnails of a replaced result set never land, even those already decoded."""
    pool = QThreadPool()
    provider = ThumbnailProvider(pool)
    model = ResultsModel(provider)
    old = records()
    model.set_results(old)
    for row in range(model.rowCount()):
        model.data(model.index(row), Qt.ItemDataRole.DecorationRole)
    pool.waitForDone()  # every old thumbnail is decoded and its signal queued
    model.set_results(old[:2])  # a new query, before any of them was delivered
    qtbot.wait(100)
    assert provider.pending == 0
    assert not any(provider.has(thumb_request(r).key) for r in old)
    assert model.loaded_count() == 0


def many_records(n: int) -> list[ResultRecord]:
    """``n`` results over the fixture images (paths repeat under distinct keys)."""
    base = records()
    return [
        replace(
            base[i % len(base)],
            rank=i + 1,
            id=i,
            path=f"copy{i}/{base[i % len(base)].path}",
            absolute_path=f"{base[i % len(base)].absolute_path}#{i}",
        )
        for i in range(n)
    ]


def test_only_visible_tiles_are_decoded(qtbot) -> None:
    """On 500 results in a small grid, thumbnails are requested for the painted tiles only."""
    pool = QThreadPool()
    requested: list[str] = []
    provider = ThumbnailProvider(pool)
    real_pixmap = provider.pixmap

    def pixmap(request):
        requested.append(request.key)
        return real_pixmap(request)

    provider.pixmap = pixmap  # type: ignore[method-assign]
    model = ResultsModel(provider)
    model.set_results(many_records(500))
    view = ResultsView()
    view.setModel(model)
    view.resize(420, 300)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(100)
    visible = {
        model.request(row).key
        for row in range(model.rowCount())
        if view.visualRect(model.index(row)).intersects(view.viewport().rect())
    }
    assert 0 < len(visible) < 40
    assert set(requested) == visible
    pool.clear()
    pool.waitForDone()


def test_filters_by_scene_folder_and_mark() -> None:
    model = ResultsModel(ThumbnailProvider(QThreadPool()))
    rows = records()
    model.set_results(rows)
    proxy = ResultsFilter()
    proxy.setSourceModel(model)
    proxy.set_scenes({"coast"})
    assert proxy.rowCount() == sum(r.scene == "coast" for r in rows)
    proxy.set_scenes(None)
    proxy.set_folder("sub")
    assert proxy.rowCount() == sum(r.path.startswith("sub/") for r in rows)
    proxy.set_folder("")
    model.set_mark(0, MARK_NOT_RELEVANT)
    model.set_mark(1, MARK_INCLUDE)
    assert model.data(model.index(1), MarkRole) == MARK_INCLUDE
    assert proxy.rowCount() == len(rows) - 1
    proxy.set_show_not_relevant(True)
    assert proxy.rowCount() == len(rows)


def test_dragged_results_carry_file_urls() -> None:
    model = ResultsModel(ThumbnailProvider(QThreadPool()))
    model.set_results(records())
    mime = model.mimeData([model.index(2)])
    assert [Path(u.toLocalFile()) for u in mime.urls()] == [Path(records()[2].absolute_path)]
