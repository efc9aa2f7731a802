# SPDX-License-Identifier: Apache-2.0
"""The detail pane: a large, zoomable preview of the selected result (optionally beside the
query) and its facts: case, path, size, SHA-256, dimensions, EXIF date/camera/GPS, scene, and
the match in words (``results/explain.py``): the similarity, the PDQ distance, the near-copy verdict
and what the ranking score is made of.

The result's thumbnail (the grid's, from the disk cache when it holds it) is shown at once; the
large preview is then read from the evidence. When the evidence cannot be read (a drive not
mounted, a past case searched from its archive) the thumbnail stays and a line says so. Previews
and EXIF are read as tasks on the previews pool; a preview that arrives after the selection moved
on is dropped (the task it came from is detached when the next one starts).

A result of another case than the open one (a search of past cases) shows no note and cannot be
noted here: marks and notes belong to the case that holds the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop.core.evidence.thumbs import make_thumbnail
from imgsim_desktop.core.model.pdq import NEAR_COPY_DISTANCE
from imgsim_desktop.core.pipeline.search import ResultRecord
from imgsim_desktop.ui.results import explain
from imgsim_desktop.ui.results.thumbnails import ThumbnailProvider, ThumbRequest, to_qimage
from imgsim_desktop.ui.tasks import Task, TaskGroup
from imgsim_desktop.ui.zoom_view import ZoomView

if TYPE_CHECKING:
    from imgsim_desktop.core.report.evidence import FileEvidence

PREVIEW_SIDE = 1600
EXIF_THUMB_SIDE = 16
NOTE_PLACEHOLDER = "Examiner's note on this file (saved with the case, printed in reports)"
OTHER_CASE_PLACEHOLDER = "A file of another case: open that case to mark it or note it"


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

    def __init__(
        self,
        tasks: TaskGroup,
        pool: QThreadPool,
        thumbnails: ThumbnailProvider | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._pool = pool
        self._thumbnails = thumbnails
        self._thumb_key: str | None = None  # the shown result's thumbnail, until the preview
        self._evidence_failed = False  # the shown result's large preview could not be read
        self._record: ResultRecord | None = None
        self._query_path: Path | None = None
        self._loading: dict[str, Task] = {}  # the latest task per view / kind
        self.preview = ZoomView()
        self.query_preview = ZoomView()
        self.query_preview.setVisible(False)
        self.source_line = QLabel()
        self.source_line.setWordWrap(True)
        self.source_line.setVisible(False)
        if thumbnails is not None:
            thumbnails.ready.connect(self._on_thumbnail)
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
            "Case",
            "Path",
            "Rank",
            "Near copy",
            "Similarity",
            "PDQ distance",
            "Copy check",
            "Score",
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
            label.setToolTip(explain.FACT_TOOLTIPS.get(name, ""))
            form.addRow(f"{name}:", label)
        self.note = QLineEdit()
        self.note.setPlaceholderText(NOTE_PLACEHOLDER)
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
        layout.addWidget(self.source_line)
        layout.addLayout(buttons)
        facts = QWidget()
        facts.setLayout(form)
        scroll = QScrollArea()  # the facts scroll rather than being cut off in a short pane
        scroll.setWidget(facts)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # lines wrap
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout.addWidget(scroll, 2)

    def set_query(self, path: Path | None) -> None:
        self._query_path = path
        if self.compare.isChecked():
            self._load(path, self.query_preview)

    def show_record(
        self,
        record: ResultRecord | None,
        facts: dict[str, str] | None = None,
        note: str = "",
        request: ThumbRequest | None = None,
        case_label: str = "",
        reviewable: bool = True,
        near_copy_threshold: int = NEAR_COPY_DISTANCE,
    ) -> None:
        """Show ``record`` (None: nothing); ``request``: its thumbnail, shown at once;
        ``reviewable`` False for a file of another case (no note shown or edited here)."""
        self._record = record
        self.show_in_folder.setEnabled(record is not None)
        self.region_query.setEnabled(record is not None and reviewable)
        self.note.setEnabled(record is not None and reviewable)
        self.note.setPlaceholderText(NOTE_PLACEHOLDER if reviewable else OTHER_CASE_PLACEHOLDER)
        self.note.setText(note if reviewable else "")
        self.source_line.setVisible(False)
        self._evidence_failed = False
        if record is None:
            self._thumb_key = None
            self._tasks.detach(self._loading.pop("exif", None))
            self._load(None, self.preview)
            for label in self.facts.values():
                label.setText("–")
            return
        values = {
            "Case": case_label or "–",
            "Path": record.absolute_path,
            "Rank": f"#{record.rank}",
            "Near copy": explain.verdict_text(record, near_copy_threshold),
            "Similarity": explain.similarity_text(record),
            "PDQ distance": explain.pdq_text(record, near_copy_threshold),
            "Copy check": explain.copy_check_text(record),
            "Score": explain.score_text(record, near_copy_threshold),
            "Scene": record.scene,
            "Size": f"{_human_size(record.size)} ({record.size:,} bytes)",
            "Dimensions": f"{record.width} × {record.height}" if record.width else "–",
            "SHA-256": record.sha256 or "–",
        }
        values.update(facts or {})
        for name, label in self.facts.items():
            label.setText(values.get(name, "–"))
        self.facts["Near copy"].setStyleSheet(
            "color: #d35400; font-weight: bold;" if explain.is_copy(record) else ""
        )
        self._load(Path(record.absolute_path), self.preview)
        self._show_thumbnail(request)
        self._load_exif(record)

    def _show_thumbnail(self, request: ThumbRequest | None) -> None:
        """The result's thumbnail until its large preview arrives (and if it never does)."""
        self._thumb_key = request.key if request is not None else None
        if request is None or self._thumbnails is None:
            return
        pixmap = self._thumbnails.pixmap(request)  # kept, or loading (see _on_thumbnail)
        if pixmap is not None:
            self.preview.set_pixmap(pixmap)

    def _on_thumbnail(self, key: str) -> None:
        if key == self._thumb_key and self._thumbnails is not None:
            pixmap = self._thumbnails.cached(key)
            if pixmap is not None:
                self.preview.set_pixmap(pixmap)
            self._say_source()

    def _load_exif(self, record: ResultRecord) -> None:
        """EXIF date, camera and GPS, read off the GUI thread."""
        # Imported here: the report package (and reportlab with it) is not needed at start-up.
        from imgsim_desktop.core.report.evidence import examine_file

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
        if view.property("wanted") != path:
            return
        if thumb is not None:
            view.set_pixmap(QPixmap.fromImage(to_qimage(thumb.width, thumb.height, thumb.data)))
            if view is self.preview:
                self._thumb_key = None  # the large preview replaces the thumbnail for good
            return
        if view is not self.preview or self._thumbnails is None or self._thumb_key is None:
            view.set_pixmap(None)
            return
        self._evidence_failed = True
        self._say_source()

    def _say_source(self) -> None:
        """Once the evidence could not be read: say what the preview shows instead."""
        key, thumbnails = self._thumb_key, self._thumbnails
        if not self._evidence_failed or key is None or thumbnails is None:
            return
        shown = thumbnails.has(key)
        if not shown and key not in thumbnails.failures:
            return  # the thumbnail is still on its way
        self.source_line.setText(
            "The evidence cannot be read here (not mounted?): this is the thumbnail kept for it"
            if shown
            else "The evidence cannot be read here and no thumbnail of it is kept"
        )
        self.source_line.setVisible(True)
        if not shown:
            self.preview.set_pixmap(None)

    def _open_folder(self) -> None:
        if self._record is not None:
            QDesktopServices.openUrl(
                QUrl.fromLocalFile(str(Path(self._record.absolute_path).parent))
            )
