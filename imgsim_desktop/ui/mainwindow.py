# SPDX-License-Identifier: Apache-2.0
"""The main window: a composition of the case browser, the result grid, the query pane and the
detail pane around one :class:`~imgsim_desktop.ui.session.CaseSession`.

Signals:
    results_shown: (int) rows in the result grid after a query finished.
    overview_shown: () the case browser shows the catalogue's counts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop import __version__
from imgsim_desktop.core.errors import ImgsimError
from imgsim_desktop.core.model.embedder import preload_libraries
from imgsim_desktop.core.pipeline.search import QueryResult
from imgsim_desktop.ui.case_browser import CaseBrowser
from imgsim_desktop.ui.detail_pane import DetailPane
from imgsim_desktop.ui.export_dialog import ExportDialog
from imgsim_desktop.ui.index_panel import IndexPanel
from imgsim_desktop.ui.query_pane import QueryPane
from imgsim_desktop.ui.results.model import (
    MARK_INCLUDE,
    MarkRole,
    RecordRole,
    ResultsFilter,
    ResultsModel,
)
from imgsim_desktop.ui.results.thumbnails import ThumbnailProvider
from imgsim_desktop.ui.results.view import ResultsView
from imgsim_desktop.ui.session import CaseOverview, CaseSession
from imgsim_desktop.ui.workers import Pools

MAX_RECENT = 8


class MainWindow(QMainWindow):
    """The application window (see the module docstring for signals)."""

    results_shown = Signal(int)  # number of result rows
    overview_shown = Signal()

    def __init__(
        self, pools: Pools | None = None, embedder=None, remember_settings: bool = True
    ) -> None:
        super().__init__()
        preload_libraries()  # before the window shows: imports on a worker would stall the GUI
        self.setWindowTitle("imgsim-desktop")
        self.pools = pools or Pools()
        self._embedder = embedder
        self.session: CaseSession | None = None
        self.overview = CaseOverview()
        self.query_path: Path | None = None
        self.last_result: QueryResult | None = None
        #: False in screenshot mode: the user's layout and recent cases are neither used nor changed.
        self.remember_settings = remember_settings
        self.thumbnails = ThumbnailProvider(self.pools.thumbs)
        self.model = ResultsModel(self.thumbnails, self)
        self.proxy = ResultsFilter(self)
        self.proxy.setSourceModel(self.model)

        self.browser = CaseBrowser()
        self.index_panel = IndexPanel()
        self.view = ResultsView()
        self.view.setModel(self.proxy)
        self.query_pane = QueryPane()
        self.detail = DetailPane(self.pools.thumbs)
        self._build_layout()
        self._build_actions()
        self._connect()
        self.status = QLabel("Open a case folder to begin")
        self.statusBar().addWidget(self.status, 1)
        if remember_settings:
            self._restore_settings()
        else:
            self.resize(1440, 900)

    # --- construction ---------------------------------------------------------------------
    def _build_layout(self) -> None:
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.index_panel)
        column.addWidget(self.view, 1)
        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.addWidget(self.query_pane)
        self.right.addWidget(self.detail)
        self.right.setSizes([330, 520])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.right)
        self.splitter.setSizes([230, 760, 420])
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)

    def _build_actions(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        open_case = QAction("Open case…", self, shortcut=QKeySequence.StandardKey.Open)
        open_case.triggered.connect(self.browser._choose)
        open_image = QAction("Open image…", self)
        open_image.triggered.connect(self.query_pane._open_image)
        self.export_action = QAction("Export report…", self, shortcut=QKeySequence("Ctrl+E"))
        self.export_action.setToolTip(
            "Write the marked matches (or the top results) to an HTML/PDF/CSV/JSON report"
        )
        self.export_action.setEnabled(False)
        self.export_action.triggered.connect(self.export_report)
        about = QAction("About", self)
        about.triggered.connect(self.show_about)
        quit_action = QAction("Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu = self.menuBar().addMenu("&File")
        for action in (open_case, open_image, self.export_action, quit_action):
            file_menu.addAction(action)
        self.menuBar().addMenu("&Help").addAction(about)
        toolbar.addAction(open_case)
        toolbar.addAction(open_image)
        toolbar.addAction(self.export_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Thumbnails "))
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(64, 400)
        self.zoom.setValue(self.view.delegate.tile_size)
        self.zoom.setMaximumWidth(160)
        self.zoom.setToolTip("Thumbnail size (also Ctrl+wheel over the grid)")
        toolbar.addWidget(self.zoom)
        self.show_hidden = QCheckBox("Show not relevant")
        self.show_hidden.setToolTip("Show results marked not relevant (hidden by default)")
        toolbar.addWidget(self.show_hidden)
        self.hide_known = QCheckBox("Hide known files")
        self.hide_known.setToolTip(
            "Search without the files a known-file hash set holds (imgsim hashset import)"
        )
        toolbar.addWidget(self.hide_known)

    def _connect(self) -> None:
        self.browser.open_requested.connect(lambda path: self.open_case(Path(path)))
        self.browser.folder_selected.connect(self.proxy.set_folder)
        self.browser.scenes_selected.connect(self.proxy.set_scenes)
        self.query_pane.query_requested.connect(lambda path: self.run_query(Path(path)))
        self.query_pane.options_changed.connect(self._rerun_query)
        self.zoom.valueChanged.connect(self.view.set_tile_size)
        self.view.tile_size_changed.connect(self.zoom.setValue)
        self.view.mark_requested.connect(self._toggle_mark)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.show_hidden.toggled.connect(self.proxy.set_show_not_relevant)
        self.hide_known.toggled.connect(self._rerun_query)
        self.detail.note_edited.connect(self._save_note)
        self.index_panel.pause_toggled.connect(
            lambda paused: self.session and self.session.pause_indexing(paused)
        )
        self.index_panel.cancel_requested.connect(
            lambda: self.session and self.session.cancel_indexing()
        )

    # --- case -----------------------------------------------------------------------------
    def open_case(self, root: Path) -> None:
        if self.session is not None:
            self.session.close()
        try:
            self.session = CaseSession(root.absolute(), self.pools, self._embedder)
        except ImgsimError as exc:
            self.show_error("Cannot open the case", exc)
            return
        session = self.session
        self._remember_recent(str(root.absolute()))
        self.setWindowTitle(f"{root.name} — imgsim-desktop")
        self.model.clear()
        self.model.set_marks(session.marks())
        session.index_progress.connect(self.index_panel.show_progress)
        session.index_finished.connect(self._on_indexed)
        session.overview_ready.connect(self._on_overview)
        session.query_finished.connect(self._on_query_result)
        session.error.connect(self.show_error)
        self.index_panel.set_running(True)
        self.index_panel.label.setText("Looking for new and changed files…")
        session.refresh_overview()
        session.start_indexing()
        self._update_status()

    def _on_indexed(self, summary) -> None:
        self.index_panel.set_running(False)
        if summary is None:
            self.index_panel.label.setText("Indexing stopped; what was done is kept")
        else:
            total = summary.indexed + summary.unchanged
            self.index_panel.bar.setMaximum(max(1, total))
            self.index_panel.bar.setValue(total)
            self.index_panel.label.setText(
                f"Index up to date: {summary.indexed} new, {summary.unchanged} unchanged, "
                f"{summary.removed} removed, {len(summary.failed)} unreadable ({summary.seconds:.1f} s)"
            )
        self._update_status()

    def _on_overview(self, overview: CaseOverview) -> None:
        self.overview = overview
        if self.session is not None:
            self.browser.show_overview(self.session.root.name, overview)
        self.index_panel.show_failures(overview.failures)
        self._update_status()
        self.overview_shown.emit()

    def _update_status(self) -> None:
        if self.session is None:
            return
        state = "indexing…" if self.session.indexing else "index up to date"
        size = self.overview.bytes / 1e6
        self.status.setText(
            f"{self.session.root}  ·  {self.overview.images} images ({size:.1f} MB)"
            f"  ·  {self.overview.failed} unreadable  ·  {state}"
        )

    # --- queries --------------------------------------------------------------------------
    def run_query(self, path: Path) -> None:
        if self.session is None:
            self.show_error("No case open", ImgsimError("Open a case folder before searching."))
            return
        self.query_path = path
        self.query_pane.show_pending(path)
        self.detail.set_query(path)
        self.model.clear()
        self.session.query(
            path,
            self.query_pane.k.value(),
            self.query_pane.all_scenes.isChecked(),
            self.hide_known.isChecked(),
        )

    def _rerun_query(self) -> None:
        if self.query_path is not None and self.session is not None:
            self.run_query(self.query_path)

    def _on_query_result(self, result: QueryResult) -> None:
        self.last_result = result
        self.export_action.setEnabled(True)
        self.query_pane.show_result(result)
        self.model.set_results(result.results)
        if self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self.results_shown.emit(self.model.rowCount())

    # --- review ---------------------------------------------------------------------------
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record = current.data(RecordRole) if current.isValid() else None
        note = self.session.note(record.path, record.sha256) if record and self.session else ""
        self.detail.show_record(record, note=note)

    def _save_note(self, record, note: str) -> None:
        if self.session is None:
            return
        try:
            self.session.set_note(record.path, record.sha256, note)
        except ImgsimError as exc:
            self.show_error("Cannot save the note", exc)
            return
        self.statusBar().showMessage(f"Note saved for {record.path}", 5000)

    def _toggle_mark(self, proxy_row: int, mark: str) -> None:
        if self.session is None:
            return
        source = self.proxy.mapToSource(self.proxy.index(proxy_row, 0))
        record = self.model.record(source.row())
        new = None if source.data(MarkRole) == mark else mark
        try:
            self.session.set_mark(record.path, record.sha256, new)
        except ImgsimError as exc:
            self.show_error("Cannot save the mark", exc)
            return
        self.model.set_mark(source.row(), new)

    def export_report(self) -> None:
        if self.session is None or self.last_result is None:
            return
        marked = sum(
            self.model.data(self.model.index(r), MarkRole) == MARK_INCLUDE
            for r in range(self.model.rowCount())
        )
        dialog = ExportDialog(f"report-{self.last_result.query_sha256[:12]}.html", marked, self)
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        choice = dialog.choice()
        worker = self.session.export(
            self.last_result, choice.options, choice.path, choice.overwrite
        )
        worker.signals.result.connect(self._on_exported)
        self.statusBar().showMessage(f"Writing {choice.path}…")

    def _on_exported(self, written) -> None:
        self.statusBar().showMessage(f"Report written: {written.path}", 15000)
        QMessageBox.information(
            self,
            "Report written",
            (
                f"{written.path}\n\nSHA-256: {written.sha256}\n(also in {written.sidecar.name})\n"
                f"{written.matches} matches"
                + (f", {written.changed} changed since indexing" if written.changed else "")
            ),
        )

    # --- dialogs, settings ----------------------------------------------------------------
    def show_error(self, title: str, exc: object) -> None:
        message = (
            str(exc) if isinstance(exc, ImgsimError | OSError) else f"Unexpected error: {exc!r}"
        )
        self.statusBar().showMessage(f"{title}: {message}", 10000)
        QMessageBox.warning(self, title, message)

    def show_about(self) -> None:
        identity = (self.session.embedder if self.session else None) or self._embedder
        if identity is None:
            from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder

            identity = EfficientNetLiteEmbedder()
        ident = identity.identity
        QMessageBox.about(
            self,
            "About imgsim-desktop",
            (
                f"<b>imgsim-desktop {__version__}</b><br>Offline image similarity search for investigators."
                f"<br><br>Model: {ident.model} (ImageNet EfficientNet-Lite0), {ident.pooling} pooling, "
                f"{ident.dim}-d vectors, shorter side {ident.shorter_side}px"
                f"<br>Weights SHA-256: <tt>{ident.weights_sha256}</tt>"
                "<br><br>The case folder is only read; everything imgsim makes lives in its data folder."
            ),
        )

    def _remember_recent(self, path: str) -> None:
        if not self.remember_settings:
            return
        settings = QSettings()
        recent = [p for p in settings.value("recentCases", [], type=list) if p != path]
        recent = [path, *recent][:MAX_RECENT]
        settings.setValue("recentCases", recent)
        self.browser.set_recent(recent)

    def _restore_settings(self) -> None:
        settings = QSettings()
        if (geometry := settings.value("geometry")) is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        if (state := settings.value("windowState")) is not None:
            self.restoreState(state)
        for key, splitter in (("splitter", self.splitter), ("rightSplitter", self.right)):
            if (value := settings.value(key)) is not None:
                splitter.restoreState(value)
        self.browser.set_recent(settings.value("recentCases", [], type=list))
        if (tile := settings.value("tileSize")) is not None:
            self.view.set_tile_size(int(tile))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.remember_settings:
            settings = QSettings()
            settings.setValue("geometry", self.saveGeometry())
            settings.setValue("windowState", self.saveState())
            settings.setValue("splitter", self.splitter.saveState())
            settings.setValue("rightSplitter", self.right.saveState())
            settings.setValue("tileSize", self.view.delegate.tile_size)
        if self.session is not None:
            self.session.close()
        self.pools.shutdown()
        super().closeEvent(event)
