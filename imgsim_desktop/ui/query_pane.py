# SPDX-License-Identifier: Apache-2.0
"""The query pane: a drop zone for the query image and what the engine said about it.

The drop zone takes files dragged from a file manager (``text/uri-list``), raw image data dragged
from a browser or another application, a paste (Ctrl+V), the "Open image…" button, and result
tiles dragged back from the grid. Raw image data is saved to the app's cache folder (never the
case folder) so the query is a file with a hash like any other.

Nothing is decoded or encoded on the GUI thread: the preview is made by the core's
``make_thumbnail`` and dropped image data is saved, both as tasks on the previews pool; they
arrive by signal, and one that arrives after another image was chosen is dropped.

A rectangle dragged on the picture is a region query (:mod:`.region_select`); several files
dropped at once are one query of several images; the controls of :mod:`.query_tools` (combine
mode, "learn from my marks", the word search box) sit under the picture.

"Search past cases" searches every case this user has indexed and the archived cases of the
library folders added with "Libraries" (see ``past_cases.py``) instead of the open case only.

Signals:
    query_requested: (str) path of the image to search with.
    options_changed: () "search all scenes", "search past cases", the library folders or the
        number of results changed.
    images_requested: (list[str]) several images to search with at once.
    region_requested: (Region) a rectangle drawn on the shown picture.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMimeData,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
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
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop.core.errors import ImgsimError, ModelError
from imgsim_desktop.core.evidence.thumbs import make_thumbnail
from imgsim_desktop.core.paths import app_cache_dir
from imgsim_desktop.core.pipeline.richer.region import upright_size
from imgsim_desktop.core.pipeline.search import QueryResult
from imgsim_desktop.core.pipeline.words.find import FindResult
from imgsim_desktop.ui.model_loader import ModelState
from imgsim_desktop.ui.past_cases import (
    PastCaseSearch,
    library_folders,
    searched_text,
    set_library_folders,
)
from imgsim_desktop.ui.query_tools import QueryTools
from imgsim_desktop.ui.region_select import RegionSelector
from imgsim_desktop.ui.results.thumbnails import to_qimage
from imgsim_desktop.ui.tasks import Task, TaskGroup

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.gif *.bmp *.tif *.tiff *.webp *.heic *.heif *.avif);;All files (*)"


#: Longest side of the query preview, in pixels.
PREVIEW_SIDE = 800
#: What dropped or pasted image data is: already a QImage, or encoded bytes of an image/* type.
ImageData = QImage | bytes


def save_pasted_image(data: ImageData) -> Path:
    """Store image data as a PNG in the cache folder, named by its content hash (a pool thread)."""
    image = data if isinstance(data, QImage) else QImage.fromData(QByteArray(data))
    if image.isNull():
        raise ImgsimError("the dropped or pasted data is not an image that can be read")
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    encoded = bytes(buffer.data().data())
    folder = app_cache_dir() / "pasted"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(encoded).hexdigest()[:32]}.png"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(encoded)
        tmp.replace(path)
    return path


def query_from_mime(mime: QMimeData) -> Path | ImageData | None:
    """A local file from dropped URLs, else the image data (encoded bytes first: they are not
    decoded here); None if neither."""
    for url in mime.urls():
        if url.isLocalFile():
            return Path(url.toLocalFile())
    for fmt in mime.formats():
        if fmt.startswith("image/"):
            data = bytes(mime.data(fmt).data())
            if data:
                return data
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return image
    return None


def load_preview(path: Path, side: int = PREVIEW_SIDE) -> QImage:
    """The picture at ``path`` fitted in ``side`` pixels, as a QImage (a pool thread)."""
    thumb = make_thumbnail(path, side)
    return to_qimage(thumb.width, thumb.height, thumb.data)


class DropZone(QLabel):
    """Shows the query image; accepts drops and says what was dropped.

    Signals:
        dropped: (str) path of a dropped image file.
        data_dropped: (QImage | bytes) dropped or pasted image data, to be saved first.
        several_dropped: (list[str]) several image files dropped at once (one query of them).
    """

    dropped = Signal(str)  # path
    data_dropped = Signal(object)  # QImage or encoded image bytes
    several_dropped = Signal(list)  # paths of several dropped image files

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
        files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        if len(files) > 1:
            self.several_dropped.emit([str(f) for f in files])
            return True
        found = query_from_mime(mime)
        if found is None:
            return False
        if isinstance(found, Path):
            self.dropped.emit(str(found))
        else:
            self.data_dropped.emit(found)
        return True

    def set_picture(self, image: QImage | None, name: str = "") -> None:
        """Show ``image`` fitted in the zone (made off the GUI thread), or ``name`` without one."""
        if image is None or image.isNull():
            self.setText(name)
            return
        self.setPixmap(
            QPixmap.fromImage(image).scaled(
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
    images_requested = Signal(list)  # paths of several query images
    region_requested = Signal(object)  # Region of the shown image

    def __init__(
        self, tasks: TaskGroup, pool: QThreadPool, parent=None, remember: bool = True
    ) -> None:
        """``remember``: the library folders are read from and kept in the user's settings."""
        super().__init__(parent)
        self._remember = remember
        self._tasks = tasks
        self._pool = pool
        self._preview_task: Task | None = None
        self._shown: Path | None = None
        self.drop_zone = DropZone()
        self.drop_zone.dropped.connect(self.query_requested)
        self.drop_zone.data_dropped.connect(self._save_dropped)
        self.drop_zone.several_dropped.connect(self.images_requested)
        self.region_selector = RegionSelector(self.drop_zone)
        self.region_selector.region_drawn.connect(self.region_requested)
        self.tools = QueryTools()
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
        self.past_cases = QCheckBox("Search past cases")
        self.past_cases.setToolTip(
            "Search every case indexed on this computer and the archived cases of the library "
            "folders, not only the open case; each result names its case"
        )
        self.past_cases.toggled.connect(self.options_changed)
        self.libraries = QToolButton()
        self.libraries.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.libraries)
        menu.addAction("Add a library folder…", self._add_library)
        menu.addAction("Forget the library folders", self._forget_libraries)
        self.libraries.setMenu(menu)
        self.library_folders: list[Path] = []
        self.set_library_folders(library_folders() if remember else [])
        self.model_line = QLabel()
        self.model_line.setWordWrap(True)
        self.model_line.setToolTip("Queries wait for the model; indexing and reviewing do not")
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
        past = QHBoxLayout()
        past.addWidget(self.past_cases)
        past.addWidget(self.libraries)
        past.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.model_line)
        layout.addWidget(self.drop_zone, 1)
        layout.addWidget(open_button)
        layout.addLayout(options)
        layout.addLayout(past)
        layout.addWidget(self.tools)
        layout.addLayout(facts)
        paste = QShortcut(
            QKeySequence.StandardKey.Paste, self, context=Qt.ShortcutContext.WindowShortcut
        )
        paste.activated.connect(self.paste)

    # --- past cases -------------------------------------------------------------------------
    def set_library_folders(self, folders: list[Path]) -> None:
        """The library folders searched with "Search past cases" (kept in the settings)."""
        self.library_folders = list(dict.fromkeys(folders))
        count = len(self.library_folders)
        self.libraries.setText(f"Libraries ({count})" if count else "Libraries")
        self.libraries.setToolTip(
            "Library folders of archived cases (imgsim archive), searched with past cases:\n"
            + ("\n".join(map(str, self.library_folders)) or "none yet")
        )
        if self._remember:
            set_library_folders(self.library_folders)

    def _add_library(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Library folder of archived cases")
        if folder:
            self.set_library_folders([*self.library_folders, Path(folder)])
            self.options_changed.emit()

    def _forget_libraries(self) -> None:
        self.set_library_folders([])
        self.options_changed.emit()

    def paste(self) -> None:
        if not self.drop_zone.accept_mime(QGuiApplication.clipboard().mimeData()):
            self.path.setText("The clipboard holds no image")

    def _open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open query image", "", IMAGE_FILTER)
        if path:
            self.query_requested.emit(path)

    def _save_dropped(self, data: ImageData) -> None:
        self.path.setText("Reading the dropped image…")
        self._tasks.start(
            lambda _progress, _cancel: save_pasted_image(data),
            name="save dropped image",
            pool=self._pool,
            finished=lambda path: self.query_requested.emit(str(path)),
            failed=lambda exc: self.path.setText(f"Cannot use the dropped data: {exc}"),
        )

    def show_pending(self, path: Path) -> None:
        self._show_preview(path)
        self.path.setText(str(path))
        self.sha256.setText("…")
        self.scene.setText("…")
        self.searched.setText("searching…")

    def _show_preview(self, path: Path) -> None:
        """Load the preview off the GUI thread; a replaced one never lands."""
        if path == self._shown and self.region_selector.full_size is not None:
            return  # the same picture (another region of it, another combination)
        self._tasks.detach(self._preview_task)
        self._shown = path
        self.region_selector.full_size = None
        self.drop_zone.setText(f"{path.name}\n(loading…)")
        self._preview_task = self._tasks.start(
            lambda _progress, _cancel: (load_preview(path), upright_size(path)),
            name="query preview",
            pool=self._pool,
            finished=lambda found: self._on_preview(path, *found),
            failed=lambda _exc: self.drop_zone.set_picture(None, path.name),
        )

    def _on_preview(self, path: Path, image: QImage, full: tuple[int, int]) -> None:
        self.drop_zone.set_picture(image, path.name)
        self.region_selector.full_size = QSize(*full)

    def set_model_state(self, state: ModelState, error: ModelError | None = None) -> None:
        """Say that the model is loading, or why it cannot load; nothing once it is ready."""
        if state is ModelState.READY:
            self.model_line.setVisible(False)
            return
        if state is ModelState.FAILED:
            self.model_line.setStyleSheet("color: #c0392b;")
            self.model_line.setText(
                f"The model cannot load: {error}" if error else "The model did not load"
            )
        else:
            self.model_line.setStyleSheet("")
            self.model_line.setText("Loading the model…")
        self.model_line.setVisible(True)

    def show_waiting_for_model(self) -> None:
        self.searched.setText("waits for the model to load…")

    def show_waiting(self) -> None:
        self.searched.setText("waiting for the first images to be indexed…")

    def clear_result(self) -> None:
        """Forget the last result's facts (another case is being opened)."""
        for label in (self.sha256, self.scene, self.searched):
            label.setText("–")

    def show_past_result(self, search: PastCaseSearch) -> None:
        """The facts of a search over past cases: how many cases, and those not searched."""
        result = search.result
        self.sha256.setText(result.query_sha256)
        self.scene.setText(f"{result.scene} ({result.scene_confidence:.0%})")
        self.searched.setText(searched_text(search))

    def show_result(self, result: QueryResult, indexing: bool = False) -> None:
        """The query's facts; ``indexing``: the index is still being built, so what was indexed
        so far was searched (the line says so)."""
        self.sha256.setText(result.query_sha256)
        self.scene.setText(f"{result.scene} ({result.scene_confidence:.0%})")
        share = result.vectors_searched / result.vectors_total if result.vectors_total else 0
        text = (
            f"{', '.join(result.scenes_searched)} — {result.vectors_searched} of "
            f"{result.vectors_total} images ({share:.0%})"
        )
        if result.vectors_pending:
            text += f" · {result.vectors_pending} wait for a re-embed (not searched)"
        if indexing:
            text += " · indexing continues"
        self.searched.setText(text)

    def show_find(self, result: FindResult) -> None:
        """A word search's facts: the labels the word stood for, how many images carry labels."""
        self.path.setText(f"Word: {result.word}")
        self.sha256.setText("–")
        self.scene.setText(", ".join(result.scenes) if result.scenes else "all scenes")
        labels = "; ".join(name.split(",")[0] for name in result.labels)
        text = f"labels {labels} — {result.images_labelled} images carry object labels"
        if result.seeds:
            kinds = "labels and scenes" if result.scene_agreement else "labels"
            text += f" · ordered also by likeness ({kinds}) to the {len(result.seeds)} surest"
        if result.images_unlabelled:
            text += (
                f" · {result.images_unlabelled} indexed before labels were stored (not searched)"
            )
        self.searched.setText(text)
