# SPDX-License-Identifier: Apache-2.0
"""Richer queries in the window (fake embedder): drawing a region on the query picture, dropping
two images, adding a result to the query with A, the detail pane's region query, the "learn
from my marks" toggle and the word search box with the scene filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import ImageEnhance
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl

from imgsim_desktop.core import open_case
from imgsim_desktop.core.model.embedder import Descriptions
from imgsim_desktop.core.pipeline.richer.region import Region
from imgsim_desktop.ui.query_tools import CLASSIFIER_NOTE
from imgsim_desktop.ui.region_select import picture_rect
from tests.core.test_richer_queries import BOX, photo
from tests.ui.fakes import GatedEmbedder
from tests.ui.test_window import drop, open_and_index


class ObjectEmbedder(GatedEmbedder):
    """Also labels objects: ImageNet's "seashore" (978) as likely as the picture is blue."""

    def describe_with_objects(self, images: list[np.ndarray]) -> tuple[Descriptions, np.ndarray]:
        probabilities = np.zeros((len(images), 1000), np.float32)
        for row, pixels in enumerate(images):
            means = pixels.reshape(-1, 3).mean(axis=0)
            probabilities[row, 978] = means[2] / max(1.0, float(means.sum()))
        return self.describe(images), probabilities


@pytest.fixture
def rich_case(tmp_path: Path) -> Path:
    case = tmp_path / "case"
    case.mkdir()
    for n in range(16):
        photo(n, (160, 120)).save(case / f"photo{n:02d}.png")
    whole = photo(100)
    whole.crop((BOX.x, BOX.y, BOX.x + BOX.w, BOX.y + BOX.h)).save(case / "crop.png")
    for n in (300, 301):
        photo(n).save(case / f"look{n}.png")
        ImageEnhance.Brightness(photo(n)).enhance(1.15).save(case / f"look{n}_alike.png")
    queries = tmp_path / "queries"
    queries.mkdir()
    whole.save(queries / "whole.png")
    return case


def _paths(window) -> list[str]:
    return [window.model.record(r).path for r in range(window.model.rowCount())]


def _query(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        window.run_query(path)


def test_drawing_a_rectangle_on_the_query_searches_by_that_region(
    qtbot, make_window, rich_case: Path
) -> None:
    window = make_window(GatedEmbedder())
    open_and_index(qtbot, window, rich_case)
    _query(qtbot, window, rich_case.parent / "queries" / "whole.png")
    assert window.last_result.settings.region is None
    zone, selector = window.query_pane.drop_zone, window.query_pane.region_selector
    qtbot.waitUntil(
        lambda: selector.full_size is not None and picture_rect(zone) is not None, timeout=20000
    )
    shown = picture_rect(zone)
    scale = shown.width() / 320
    start = QPoint(shown.left() + round(BOX.x * scale), shown.top() + round(BOX.y * scale))
    end = QPoint(
        shown.left() + round((BOX.x + BOX.w) * scale), shown.top() + round((BOX.y + BOX.h) * scale)
    )
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        qtbot.mousePress(zone, Qt.MouseButton.LeftButton, pos=start)
        qtbot.mouseMove(zone, end)
        qtbot.mouseRelease(zone, Qt.MouseButton.LeftButton, pos=end)
    region = window.last_result.settings.region
    assert region is not None
    assert np.allclose(region, BOX.as_list(), atol=2 / scale + 1)
    assert _paths(window)[0] == "crop.png"
    assert "region" in window.query_pane.tools.made_of.text()
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        window.query_pane.tools.whole.click()
    assert window.last_result.settings.region is None


def test_dropping_two_images_searches_with_both(qtbot, make_window, rich_case: Path) -> None:
    window = make_window(GatedEmbedder())
    open_and_index(qtbot, window, rich_case)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(rich_case / n)) for n in ("look300.png", "look301.png")])
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        drop(window, mime)
    result = window.last_result
    assert result.settings.combine == "all"
    assert [e["path"] for e in result.examples] == [
        str(rich_case / "look300.png"),
        str(rich_case / "look301.png"),
    ]
    assert "look300.png + look301.png" in window.query_pane.tools.made_of.text()
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        window.query_pane.tools.combine.setCurrentIndex(1)
    assert window.last_result.settings.combine == "any"
    assert set(_paths(window)[:2]) == {"look300.png", "look301.png"}


def test_a_result_joins_the_query_with_a_and_the_detail_pane_starts_a_region_query(
    qtbot, make_window, rich_case: Path
) -> None:
    window = make_window(GatedEmbedder())
    open_and_index(qtbot, window, rich_case)
    _query(qtbot, window, rich_case / "look300.png")
    window.view.setFocus()
    window.view.setCurrentIndex(window.proxy.index(2, 0))
    added = window.model.record(2)
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        qtbot.keyClick(window.view, Qt.Key.Key_A)
    assert window.query_state.images == [rich_case / "look300.png", Path(added.absolute_path)]
    assert window.last_result.settings.combine == "all"
    window.view.setCurrentIndex(window.proxy.index(1, 0))
    shown = window.model.record(1)
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        window.detail.region_query.click()
    assert window.query_state.images == [Path(shown.absolute_path)]
    assert "drag a rectangle" in window.query_pane.tools.made_of.text()


def test_learn_from_my_marks_pushes_down_what_was_marked_not_relevant(
    qtbot, make_window, rich_case: Path
) -> None:
    window = make_window(GatedEmbedder())
    open_and_index(qtbot, window, rich_case)
    window.query_pane.all_scenes.setChecked(True)  # every image comes back (k=50)
    _query(qtbot, window, rich_case / "look300.png")
    before = _paths(window)
    row = before.index("look301.png")
    window.view.setFocus()
    window.view.setCurrentIndex(window.proxy.mapFromSource(window.model.index(row)))
    qtbot.keyClick(window.view, Qt.Key.Key_X)  # not relevant
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        window.query_pane.tools.learn.setChecked(True)
    after = _paths(window)
    assert after.index("look301.png") > row

    def place(paths: list[str]) -> int:  # among the others, the marked file left out
        return [p for p in paths if p != "look301.png"].index("look301_alike.png")

    assert place(after) > place(before)
    assert any(e["role"] == "negative" and e.get("marked") for e in window.last_result.examples)
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        window.query_pane.tools.learn.setChecked(False)
    assert _paths(window) == before


def test_the_word_box_finds_objects_within_the_selected_scenes(
    qtbot, make_window, rich_case: Path
) -> None:
    window = make_window(ObjectEmbedder())
    open_and_index(qtbot, window, rich_case)
    tools = window.query_pane.tools
    assert not tools.word_note.isVisible()
    tools.word.setText("seashore")
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        qtbot.keyClick(tools.word, Qt.Key.Key_Return)
    assert tools.word_note.isVisible() and tools.word_note.text() == CLASSIFIER_NOTE
    assert "not an object detector" in CLASSIFIER_NOTE
    records = [window.model.record(r) for r in range(window.model.rowCount())]
    session = window.session
    with open_case(rich_case, embedder=session.embedder, head=session.head, log_open=False) as case:
        expected = case.find("seashore", k=window.query_pane.k.value())
    assert records and [r.path for r in records] == [r.path for r in expected.results]
    searched = window.query_pane.searched.text()
    assert "seashore" in searched and "likeness (labels and scenes)" in searched
    assert not window.export_action.isEnabled()  # a report is of an image query
    scene = records[-1].scene
    window.browser.scenes_selected.emit({scene})
    with qtbot.waitSignal(window.results_shown, timeout=30000):
        qtbot.keyClick(tools.word, Qt.Key.Key_Return)
    narrowed = [window.model.record(r) for r in range(window.model.rowCount())]
    assert narrowed and all(r.scene == scene for r in narrowed)
    assert len(narrowed) < len(records) or {r.scene for r in records} == {scene}


def test_region_mapping_from_the_zone_to_the_image() -> None:
    from PySide6.QtCore import QRect, QSize

    from imgsim_desktop.ui.region_select import to_image_region

    shown = QRect(10, 20, 160, 120)
    assert to_image_region(QRect(10, 20, 80, 60), shown, QSize(320, 240)) == Region(0, 0, 160, 120)
    assert to_image_region(QRect(0, 0, 400, 400), shown, QSize(320, 240)) == Region(0, 0, 320, 240)
    assert to_image_region(QRect(12, 22, 2, 2), shown, QSize(320, 240)) is None
