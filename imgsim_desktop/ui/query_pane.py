# SPDX-License-Identifier: Apache-2.0
"""The query pane: a drop zone for the query image and what the engine said about it.

The drop zone takes files dragged from a file manager (``text/uri-list``), raw image data dragged
from a browser or another application, a paste (Ctrl+V), the "Open image…" button, and result
tiles dragged back from the grid. Raw image data is saved to the app's cache folder (never the
case folder) so the query is a file with a hash like any other.

Signals:
    query_requested: (str) path of the image to search with.
    options_changed: () "search all scenes" or the number of results changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop.core.paths import app_cache_dir
from imgsim_desktop.core.pipeline.search import QueryResult

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.gif *.bmp *.tif *.tiff *.webp *.heic *.heif *.avif);;All files (*)"


def save_pasted_image(image: QImage) -> Path:
    """Store raw image data as a PNG in the cache folder, named by its content hash."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    data = bytes(buffer.data().data())
    folder = app_cache_dir() / "pasted"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:32]}.png"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def query_path_from_mime(mime: QMimeData) -> Path | None:
    """A local file from dropped URLs, else raw image data saved to the cache; None if neither."""
    for url in mime.urls():
        if url.isLocalFile():
            return Path(url.toLocalFile())
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return save_pasted_image(image)
    for fmt in mime.formats():
        if fmt.startswith("image/"):
            image = QImage.fromData(QByteArray(mime.data(fmt)))
            if not image.isNull():
                return save_pasted_image(image)
    return None


class DropZone(QLabel):
    """Shows the query image; accepts drops and emits the dropped file's path.

    Signals:
        dropped: (str) path of the dropped or pasted image.
    """

    dropped = Signal(str)  # path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(220, 180)
        self.setWordWrap(True)
        self.setObjectName("dropZone")
        self.setStyleSheet(
            "#dropZone { border: 2px dashed #7f8c8d; border-radius: 8px; color: #7f8c8d; }"
        )
        self.setText(
            "Drop a query image here\n(file, image from a browser, or a result tile)\n\nCtrl+V pastes"
        )
        self.setToolTip("Drop an image file or image data, or paste with Ctrl+V")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage() or any(f.startswith("image/") for f in mime.formats()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.accept_mime(event.mimeData())
        event.acceptProposedAction()

    def accept_mime(self, mime: QMimeData) -> bool:
        path = query_path_from_mime(mime)
        if path is None:
            return False
        self.dropped.emit(str(path))
        return True

    def show_image(self, path: Path) -> None:
        pixmap = QPixmap(str(path))
        if pixmap.isNull():
            self.setText(path.name)
            return
        self.setPixmap(
            pixmap.scaled(
                self.width() - 8,
                self.height() - 8,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )


class QueryPane(QWidget):
    """Drop zone, query facts (SHA-256, scene, scenes searched) and search options."""

    query_requested = Signal(str)  # path of the query image
    options_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.drop_zone = DropZone()
        self.drop_zone.dropped.connect(self.query_requested)
        open_button = QPushButton("Open image…")
        open_button.setToolTip("Choose a query image file")
        open_button.clicked.connect(self._open_image)
        self.all_scenes = QCheckBox("Search all scenes")
        self.all_scenes.setToolTip(
            "Search every scene's index instead of the query's likely scenes"
        )
        self.all_scenes.toggled.connect(self.options_changed)
        self.k = QSpinBox()
        self.k.setRange(1, 1000)
        self.k.setValue(50)
        self.k.setToolTip("Number of results")
        self.k.editingFinished.connect(self.options_changed)
        self.sha256 = QLabel("–")
        self.sha256.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sha256.setWordWrap(True)
        self.scene = QLabel("–")
        self.searched = QLabel("–")
        self.searched.setWordWrap(True)
        self.path = QLabel("–")
        self.path.setWordWrap(True)

        facts = QFormLayout()
        facts.addRow("File:", self.path)
        facts.addRow("SHA-256:", self.sha256)
        facts.addRow("Scene:", self.scene)
        facts.addRow("Searched:", self.searched)
        options = QHBoxLayout()
        options.addWidget(self.all_scenes)
        options.addStretch()
        options.addWidget(QLabel("Results:"))
        options.addWidget(self.k)
        layout = QVBoxLayout(self)
        layout.addWidget(self.drop_zone, 1)
        layout.addWidget(open_button)
        layout.addLayout(options)
        layout.addLayout(facts)
        paste = QShortcut(
            QKeySequence.StandardKey.Paste, self, context=Qt.ShortcutContext.WindowShortcut
        )
        paste.activated.connect(self.paste)

    def paste(self) -> None:
        if not self.drop_zone.accept_mime(QGuiApplication.clipboard().mimeData()):
            self.path.setText("The clipboard holds no image")

    def _open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open query image", "", IMAGE_FILTER)
        if path:
            self.query_requested.emit(path)

    def show_pending(self, path: Path) -> None:
        self.drop_zone.show_image(path)
        self.path.setText(str(path))
        self.sha256.setText("…")
        self.scene.setText("…")
        self.searched.setText("searching…")

    def show_result(self, result: QueryResult) -> None:
        self.sha256.setText(result.query_sha256)
        self.scene.setText(f"{result.scene} ({result.scene_confidence:.0%})")
        share = result.vectors_searched / result.vectors_total if result.vectors_total else 0
        self.searched.setText(
            f"{', '.join(result.scenes_searched)} — {result.vectors_searched} of "
            f"{result.vectors_total} images ({share:.0%})"
        )
