# SPDX-License-Identifier: Apache-2.0
"""The main window with the real model: open a case, index in the background, query by dropped
URL and by raw image data, thumbnails arrive, review marks persist, queries replace each other."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
from imgsim_desktop.ui.mainwindow import MainWindow
from imgsim_desktop.ui.results.model import MARK_INCLUDE, MARK_NOT_RELEVANT, MarkRole
from imgsim_desktop.ui.session import IndexEnd
from tests.conftest import manifest

pytestmark = pytest.mark.model
N_IMAGES = 13


@pytest.fixture(scope="module")
def embedder() -> EfficientNetLiteEmbedder:
    return EfficientNetLiteEmbedder()


@pytest.fixture
def make_window(qtbot, embedder):
    windows = []

    def make() -> MainWindow:
        win = MainWindow(embedder=embedder)
        qtbot.addWidget(win)
        win.show()
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.close()
        assert not win.runner.running()
        for pool in (win.runner.index, win.runner.work, win.runner.previews, win.runner.thumbs):
            assert pool.activeThreadCount() == 0


def open_and_index(qtbot, window: MainWindow, case: Path) -> None:
    with qtbot.waitSignal(window.overview_shown, timeout=60000):
        window.open_case(case)
    if window.session.indexing:
        with qtbot.waitSignal(window.session.index_ended, timeout=120000) as blocker:
            pass
        assert blocker.args[0].end is IndexEnd.FINISHED
        qtbot.waitSignal(window.overview_shown, timeout=30000).wait()


def drop(window: MainWindow, mime: QMimeData) -> None:
    zone = window.query_pane.drop_zone
    event = QDropEvent(
        QPoint(10, 10).toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    zone.dropEvent(event)


def test_index_then_query_by_dropped_url_and_raw_image(
    qtbot, make_window, fixture_case: Path
) -> None:
    before = manifest(fixture_case)
    window = make_window()
    open_and_index(qtbot, window, fixture_case)
    assert window.overview.images == N_IMAGES
    assert window.browser.folder_model.index(0, 1).data() == str(N_IMAGES)

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(fixture_case / "scene0_a.jpg"))])
    with qtbot.waitSignal(window.results_shown, timeout=60000) as shown:
        drop(window, mime)
    assert shown.args[0] == N_IMAGES  # k=50 > images: every image comes back
    first = window.model.record(0)
    # The query is described at two scales, the stored image at one: the query's own image is
    # about 0.98 similar (1.0 before the R-MAC descriptor), and its PDQ distance 0.
    assert first.path == "scene0_a.jpg" and first.similarity > 0.95
    assert first.near_copy and first.pdq_distance == 0
    assert window.model.record(1).path == "scene0_b.png"
    assert window.query_pane.sha256.text() == first.sha256
    qtbot.waitUntil(lambda: window.model.loaded_count() >= 6, timeout=20000)
    qtbot.waitUntil(window.detail.preview.has_picture, timeout=20000)

    raw = QMimeData()
    raw.setImageData(QImage(str(fixture_case / "scene4_a.jpg")))
    with qtbot.waitSignal(window.results_shown, timeout=60000):
        drop(window, raw)
    assert window.model.record(0).path == "scene4_a.jpg"
    assert window.query_path is not None and not window.query_path.is_relative_to(fixture_case)
    assert manifest(fixture_case) == before


def test_review_marks_persist_across_a_restart(qtbot, make_window, fixture_case: Path) -> None:
    window = make_window()
    open_and_index(qtbot, window, fixture_case)
    with qtbot.waitSignal(window.results_shown, timeout=60000):
        window.run_query(fixture_case / "scene1_a.jpg")
    view = window.view
    view.setFocus()
    view.setCurrentIndex(window.proxy.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    included = window.model.record(0)
    view.setCurrentIndex(window.proxy.index(1, 0))
    qtbot.keyClick(view, Qt.Key.Key_X)
    rejected = window.model.record(1)
    assert window.proxy.rowCount() == N_IMAGES - 1  # not relevant is hidden
    window.close()

    again = make_window()
    recent = again.browser.recent  # remembered across the restart, a single case stays one entry
    assert recent.count() == 1 and recent.item(0).data(Qt.ItemDataRole.UserRole) == str(
        fixture_case
    )
    open_and_index(qtbot, again, fixture_case)
    with qtbot.waitSignal(again.results_shown, timeout=60000):
        again.run_query(fixture_case / "scene1_a.jpg")
    marks = {
        again.model.record(r).path: again.model.data(again.model.index(r), MarkRole)
        for r in range(again.model.rowCount())
    }
    assert marks[included.path] == MARK_INCLUDE
    assert marks[rejected.path] == MARK_NOT_RELEVANT
    assert again.proxy.rowCount() == N_IMAGES - 1
    again.show_hidden.setChecked(True)
    assert again.proxy.rowCount() == N_IMAGES


def test_a_new_query_replaces_the_one_in_flight(qtbot, make_window, fixture_case: Path) -> None:
    window = make_window()
    open_and_index(qtbot, window, fixture_case)
    landed, previews = [], []
    window.results_shown.connect(lambda _n: landed.append(window.model.record(0).path))
    window.preview_shown.connect(lambda _n: previews.append(window.model.record(0).path))
    window.run_query(fixture_case / "scene2_a.jpg")
    window.run_query(fixture_case / "scene5_a.jpg")
    qtbot.waitUntil(lambda: bool(landed), timeout=60000)
    qtbot.wait(1500)  # a stale result would land now
    assert landed == ["scene5_a.jpg"]
    assert previews == ["scene5_a.jpg"]  # nor does a stale preview


def test_the_first_tiles_come_from_a_quick_preview_then_the_full_answer(
    qtbot, make_window, fixture_case: Path
) -> None:
    window = make_window()
    open_and_index(qtbot, window, fixture_case)
    window.query_pane.all_scenes.setChecked(True)
    seen: list[tuple[str, int, str]] = []
    window.preview_shown.connect(
        lambda n: seen.append(("preview", n, window.query_pane.searched.text()))
    )
    window.results_shown.connect(lambda n: seen.append(("results", n, "")))
    with qtbot.waitSignal(window.results_shown, timeout=60000):
        window.run_query(fixture_case / "scene2_a.jpg")
    assert [kind for kind, _, _ in seen] == ["preview", "results"]
    assert seen[0][1] == seen[1][1] == N_IMAGES  # every scene searched, k=50 > images
    assert "refining" in seen[0][2]
    assert window.last_result.settings.rotations  # the full answer is what stays
    assert "refining" not in window.query_pane.searched.text()


def test_unreadable_query_shows_a_message_not_a_traceback(
    qtbot, make_window, fixture_case: Path, monkeypatch
) -> None:
    shown = []
    monkeypatch.setattr(
        "imgsim_desktop.ui.mainwindow.QMessageBox.warning",
        lambda _parent, title, text: shown.append((title, text)),
    )
    window = make_window()
    open_and_index(qtbot, window, fixture_case)
    window.run_query(fixture_case / "notes.txt")
    qtbot.waitUntil(lambda: bool(shown), timeout=60000)
    assert shown[0][0] == "Search failed" and "notes.txt" in shown[0][1]


def test_export_dialog_writes_a_report_with_its_hash(
    qtbot, make_window, fixture_case: Path, tmp_path: Path, monkeypatch
) -> None:
    import hashlib

    from imgsim_desktop.ui.export_dialog import ExportDialog

    window = make_window()
    open_and_index(qtbot, window, fixture_case)
    with qtbot.waitSignal(window.results_shown, timeout=60000):
        window.run_query(fixture_case / "scene2_a.jpg")
    window.view.setFocus()
    window.view.setCurrentIndex(window.proxy.index(1, 0))
    qtbot.keyClick(window.view, Qt.Key.Key_Space)
    window.detail.note.setText("same garden, other day")
    window.detail.note.setModified(True)
    window.detail.note.editingFinished.emit()
    out = tmp_path / "reports" / "r.html"
    out.parent.mkdir()

    def accept(dialog: ExportDialog) -> int:
        dialog.path.setText(str(out))
        dialog.examiner.setText("Test Examiner")
        dialog.case_number.setText("C-42")
        assert dialog.marked_only.isChecked()  # one match is marked: default to it
        return ExportDialog.DialogCode.Accepted

    written = []
    monkeypatch.setattr(ExportDialog, "exec", accept)
    monkeypatch.setattr(
        "imgsim_desktop.ui.mainwindow.QMessageBox.information",
        lambda _parent, _title, text: written.append(text),
    )
    window.export_report()
    qtbot.waitUntil(lambda: bool(written), timeout=60000)
    html = out.read_text(encoding="utf-8")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest in (out.parent / "r.html.sha256").read_text() and digest in written[0]
    assert "Test Examiner" in html and "C-42" in html and "same garden, other day" in html
    marked = window.model.record(1)
    assert marked.sha256 in html
    audit = (window.session.case.data_dir / "audit.jsonl").read_text()
    assert '"export"' in audit and digest in audit


@pytest.mark.shared_data
def test_real_photos_query_by_drop_and_by_a_result_dragged_back(
    qtbot, make_window, tmp_path: Path
) -> None:
    import shutil

    from tests.conftest import make_readonly_copy, make_writable, shared_data

    source = tmp_path / "src"
    source.mkdir()
    for image in sorted((shared_data("holidays_805") / "images").glob("10*.jpg"))[:40]:
        shutil.copy(image, source / image.name)
    case = make_readonly_copy(source, tmp_path / "case")
    try:
        window = make_window()
        open_and_index(qtbot, window, case)
        assert window.overview.images == 40
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(case / "100000.jpg"))])
        with qtbot.waitSignal(window.results_shown, timeout=60000):
            drop(window, mime)
        top = [window.model.record(r).path for r in range(3)]
        assert top[0] == "100000.jpg" and "100001.jpg" in top  # the same scene, another photo
        qtbot.waitUntil(lambda: window.model.loaded_count() >= 6, timeout=30000)
        dragged = window.model.mimeData([window.model.index(1)])  # a result dragged back
        with qtbot.waitSignal(window.results_shown, timeout=60000):
            drop(window, dragged)
        assert window.model.record(0).path == top[1]
        assert window.query_path == case / top[1]
    finally:
        make_writable(case)
