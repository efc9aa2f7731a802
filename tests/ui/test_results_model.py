# SPDX-License-Identifier: Apache-2.0
"""The result model: Qt's model tester, thumbnails by role, filters and drag data."""

from __future__ import annotations

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
from imgsim_desktop.ui.results.thumbnails import ThumbnailProvider
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
    pool = QThreadPool()
    provider = ThumbnailProvider(pool)
    model = ResultsModel(provider)
    model.set_results(records())
    for row in range(model.rowCount()):
        model.data(model.index(row), Qt.ItemDataRole.DecorationRole)
    model.set_results(records()[:2])  # before any load could land
    pool.waitForDone()
    qtbot.wait(50)
    assert provider.pending == 0
    assert model.loaded_count() <= 2


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
