# SPDX-License-Identifier: Apache-2.0
"""Known files in the GUI: the "known" badge on result tiles, the "Hide known files" toggle (a
query that leaves them out), and the VICS and CASE/UCO formats in the Export dialog."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt, QThreadPool
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from imgsim_desktop.core.store.known.hashsets import import_hash_set
from imgsim_desktop.ui.export_dialog import FORMATS, ExportDialog
from imgsim_desktop.ui.results.delegate import KNOWN_COLOUR, ResultDelegate
from imgsim_desktop.ui.results.model import KnownRole, ResultsModel
from imgsim_desktop.ui.results.thumbnails import ThumbnailProvider
from tests.ui.test_results_model import records
from tests.ui.test_window import open_and_index

N_IMAGES = 13


def _tile(delegate: ResultDelegate, model: ResultsModel, row: int) -> QImage:
    image = QImage(200, 220, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 200, 220)
    painter = QPainter(image)
    delegate.paint(painter, option, model.index(row))
    painter.end()
    return image


def _has_colour(image: QImage, colour: QColor) -> bool:
    return any(image.pixelColor(x, y) == colour for x in range(image.width()) for y in range(0, 40))


def test_known_results_get_a_badge() -> None:
    pool = QThreadPool()
    model = ResultsModel(ThumbnailProvider(pool))
    rows = records()
    rows[1] = dataclasses.replace(rows[1], known="nsrl, earlier-case")
    model.set_results(rows)
    assert model.data(model.index(1), KnownRole) == "nsrl, earlier-case"
    assert model.data(model.index(0), KnownRole) is None
    assert "known: nsrl, earlier-case" in model.data(model.index(1), Qt.ItemDataRole.ToolTipRole)
    delegate = ResultDelegate(160)
    assert _has_colour(_tile(delegate, model, 1), KNOWN_COLOUR)
    assert not _has_colour(_tile(delegate, model, 0), KNOWN_COLOUR)
    pool.waitForDone()


def test_export_dialog_offers_vics_and_case_uco(qtbot, tmp_path: Path) -> None:
    dialog = ExportDialog("report-abc.html", marked=0)
    qtbot.addWidget(dialog)
    assert set(FORMATS.values()) >= {".vics.json", ".jsonld"}
    labels = {ext: label for label, ext in FORMATS.items()}
    dialog.path.setText(str(tmp_path / "r.html"))
    dialog.format.setCurrentText(labels[".vics.json"])
    assert dialog.path.text() == str(tmp_path / "r.vics.json")
    dialog.format.setCurrentText(labels[".csv"])  # not r.vics.csv
    assert dialog.path.text() == str(tmp_path / "r.csv")
    dialog.format.setCurrentText(labels[".jsonld"])
    assert dialog.choice().path == tmp_path / "r.jsonld"
    dialog.format.setCurrentText(labels[".json"])
    assert dialog.path.text() == str(tmp_path / "r.json")


@pytest.fixture
def model_window(qtbot):
    """A main window with the real model, closed (and its task runner checked idle) after the test."""
    from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
    from imgsim_desktop.ui.mainwindow import MainWindow

    win = MainWindow(embedder=EfficientNetLiteEmbedder())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert not win.runner.running()
    for pool in (win.runner.index, win.runner.work, win.runner.previews, win.runner.thumbs):
        assert pool.activeThreadCount() == 0


@pytest.mark.model
def test_hide_known_files_toggle_queries_without_them(
    qtbot, model_window, fixture_case: Path, tmp_path: Path
) -> None:
    known = ["scene0_b.png", "sub/scene1_b.jpg"]
    listing = tmp_path / "known.txt"
    listing.write_text(
        "".join(hashlib.sha256((fixture_case / p).read_bytes()).hexdigest() + "\n" for p in known)
    )
    import_hash_set(listing, "seen-before")
    window = model_window
    open_and_index(qtbot, window, fixture_case)
    with qtbot.waitSignal(window.results_shown, timeout=60000):
        window.run_query(fixture_case / "scene0_a.jpg")
    flagged = {
        window.model.record(r).path: window.model.data(window.model.index(r), KnownRole)
        for r in range(window.model.rowCount())
    }
    assert {p for p, k in flagged.items() if k} == set(known)
    assert all(flagged[p] == "seen-before" for p in known)

    with qtbot.waitSignal(window.results_shown, timeout=60000) as shown:
        window.hide_known.setChecked(True)
    assert shown.args[0] == N_IMAGES - len(known)
    paths = {window.model.record(r).path for r in range(window.model.rowCount())}
    assert not paths & set(known)
    assert window.last_result.settings.hide_known
