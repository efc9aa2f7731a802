# SPDX-License-Identifier: Apache-2.0
"""The detail pane: a large, zoomable preview of the selected result (optionally beside the
query) and its facts: path, size, SHA-256, dimensions, EXIF date/camera/GPS, scene and score.

Previews and EXIF are read as tasks on the previews pool; a preview that arrives after the
selection moved on is dropped (the task it came from is detached when the next one starts).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop.core.evidence.thumbs import make_thumbnail
from imgsim_desktop.core.pipeline.search import ResultRecord
from imgsim_desktop.core.report.evidence import FileEvidence, examine_file
from imgsim_desktop.ui.results.thumbnails import to_qimage
from imgsim_desktop.ui.tasks import Task, TaskGroup

PREVIEW_SIDE = 1600
EXIF_THUMB_SIDE = 16


class ZoomView(QGraphicsView):
    """A picture that fits the view, zoomed with the wheel, dragged with the mouse."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setMinimumSize(160, 120)
        self.setToolTip("Wheel: zoom · drag: pan · double-click: fit")
        self._fit = True

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self._item.setPixmap(pixmap or QPixmap())
        self.scene().setSceneRect(self._item.boundingRect())
        self._fit = True
        self.fit()

    def has_picture(self) -> bool:
        return not self._item.pixmap().isNull()

    def fit(self) -> None:
        if not self._item.pixmap().isNull():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._fit = False
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)

    def mouseDoubleClickEvent(self, event) -> None:
        self._fit = True
        self.fit()


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


class DetailPane(QWidget):
    """Preview and facts of one result; "Compare" shows the query beside it.

    Signals:
        note_edited: (ResultRecord, str) the examiner changed the note on the shown file.
        region_query_requested: (str) the shown file is to be the query, to draw a region on.
    """

    note_edited = Signal(object, str)  # record, note text
    region_query_requested = Signal(str)  # absolute path of the result to query by a region

    def __init__(self, tasks: TaskGroup, pool: QThreadPool, parent=None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._pool = pool
        self._record: ResultRecord | None = None
        self._query_path: Path | None = None
        self._loading: dict[str, Task] = {}  # the latest task per view / kind
        self.preview = ZoomView()
        self.query_preview = ZoomView()
        self.query_preview.setVisible(False)
        self.compare = QCheckBox("Compare with query")
        self.compare.setToolTip("Show the query image beside the selected result")
        self.compare.toggled.connect(self._on_compare)
        self.show_in_folder = QPushButton("Show in folder")
        self.show_in_folder.setToolTip("Open the folder holding this file in the file manager")
        self.show_in_folder.clicked.connect(self._open_folder)
        self.show_in_folder.setEnabled(False)
        self.region_query = QPushButton("Search by a region…")
        self.region_query.setToolTip(
            "Make this file the query, then drag a rectangle on it to search by that region"
        )
        self.region_query.clicked.connect(
            lambda: self._record and self.region_query_requested.emit(self._record.absolute_path)
        )
        self.region_query.setEnabled(False)
        self.facts: dict[str, QLabel] = {}
        form = QFormLayout()
        for name in (
            "Path",
            "Rank / score",
            "Scene",
            "Size",
            "Dimensions",
            "SHA-256",
            "Taken",
            "Camera",
            "GPS",
        ):
            label = QLabel("–")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts[name] = label
            form.addRow(f"{name}:", label)
        self.note = QLineEdit()
        self.note.setPlaceholderText(
            "Examiner's note on this file (saved with the case, printed in reports)"
        )
        self.note.setEnabled(False)
        self.note.editingFinished.connect(self._on_note)
        form.addRow("Note:", self.note)
        previews = QHBoxLayout()
        previews.addWidget(self.query_preview, 1)
        previews.addWidget(self.preview, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compare)
        buttons.addStretch()
        buttons.addWidget(self.region_query)
        buttons.addWidget(self.show_in_folder)
        layout = QVBoxLayout(self)
        layout.addLayout(previews, 3)
        layout.addLayout(buttons)
        layout.addLayout(form)

    def set_query(self, path: Path | None) -> None:
        self._query_path = path
        if self.compare.isChecked():
            self._load(path, self.query_preview)

    def show_record(
        self, record: ResultRecord | None, facts: dict[str, str] | None = None, note: str = ""
    ) -> None:
        self._record = record
        self.show_in_folder.setEnabled(record is not None)
        self.region_query.setEnabled(record is not None)
        self.note.setEnabled(record is not None)
        self.note.setText(note)
        if record is None:
            self._tasks.detach(self._loading.pop("exif", None))
            self._load(None, self.preview)
            for label in self.facts.values():
                label.setText("–")
            return
        values = {
            "Path": record.absolute_path,
            "Rank / score": f"#{record.rank} / {record.score:.4f}",
            "Scene": record.scene,
            "Size": f"{_human_size(record.size)} ({record.size:,} bytes)",
            "Dimensions": f"{record.width} × {record.height}" if record.width else "–",
            "SHA-256": record.sha256 or "–",
        }
        values.update(facts or {})
        for name, label in self.facts.items():
            label.setText(values.get(name, "–"))
        self._load(Path(record.absolute_path), self.preview)
        self._load_exif(record)

    def _load_exif(self, record: ResultRecord) -> None:
        """EXIF date, camera and GPS, read off the GUI thread."""
        path = Path(record.absolute_path)
        self._tasks.detach(self._loading.pop("exif", None))
        self._loading["exif"] = self._tasks.start(
            lambda _progress, _cancel: examine_file(path, EXIF_THUMB_SIDE),
            name="exif",
            pool=self._pool,
            finished=lambda evidence, r=record: self._on_exif(r, evidence),
        )

    def _on_exif(self, record: ResultRecord, evidence: FileEvidence) -> None:
        if record is not self._record:
            return
        self.set_facts(
            {
                "Taken": evidence.exif_date or "–",
                "Camera": evidence.exif_camera or "–",
                "GPS": evidence.gps or "–",
            }
        )
        if evidence.sha256 and record.sha256 and evidence.sha256 != record.sha256:
            self.facts["SHA-256"].setText(
                f"{record.sha256}\n(now {evidence.sha256}: file changed since indexing)"
            )

    def _on_note(self) -> None:
        if self._record is not None and self.note.isModified():
            self.note.setModified(False)
            self.note_edited.emit(self._record, self.note.text())

    def set_facts(self, facts: dict[str, str]) -> None:
        for name, value in facts.items():
            if name in self.facts:
                self.facts[name].setText(value or "–")

    def _on_compare(self, on: bool) -> None:
        self.query_preview.setVisible(on)
        if on:
            self._load(self._query_path, self.query_preview)

    def _load(self, path: Path | None, view: ZoomView) -> None:
        key = "query" if view is self.query_preview else "preview"
        self._tasks.detach(self._loading.pop(key, None))
        view.setProperty("wanted", "" if path is None else str(path))
        if path is None:
            view.set_pixmap(None)
            return
        self._loading[key] = self._tasks.start(
            lambda _progress, _cancel: make_thumbnail(path, PREVIEW_SIDE),
            name=f"{key} preview",
            pool=self._pool,
            finished=lambda thumb, p=str(path), v=view: self._on_preview(v, p, thumb),
            failed=lambda _exc, p=str(path), v=view: self._on_preview(v, p, None),
        )

    def _on_preview(self, view: ZoomView, path: str, thumb) -> None:
        if view.property("wanted") == path:
            view.set_pixmap(
                None
                if thumb is None
                else QPixmap.fromImage(to_qimage(thumb.width, thumb.height, thumb.data))
            )

    def _open_folder(self) -> None:
        if self._record is not None:
            QDesktopServices.openUrl(
                QUrl.fromLocalFile(str(Path(self._record.absolute_path).parent))
            )
