# SPDX-License-Identifier: Apache-2.0
"""The main window: a composition of the case browser, the index panel, the result grid, the
query pane and the detail pane around one :class:`~imgsim_desktop.ui.session.CaseSession`.

The window shows first; the model loads in the background (:class:`~imgsim_desktop.ui.model_loader.ModelLoader`)
and a query asked meanwhile waits for it. Opening a case tears the previous session down first (its tasks cancelled, its connections cut,
its folders, failures, progress and results cleared). How an indexing run ended decides what the
window asks: evidence that looks unmounted is forgotten only on the examiner's word, and a folder
that holds a known case whose folder is gone is offered the relink. "Search past cases" runs the
query over every case of this user and the library folders' archives instead (``past_cases.py``);
its results name their case, and only those of the open case can be marked or noted.

Signals:
    results_shown: (int) rows in the result grid after a query finished.
    overview_shown: () the case browser shows the catalogue's counts.
    session_opened: (CaseSession) a case was opened (its indexing has started).
    model_loaded: (ModelError | None) the background model load ended (None: the model is ready).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop import __version__
from imgsim_desktop.core.errors import CaseMovedError, EvidenceUnavailableError, ImgsimError
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.search import QueryResult
from imgsim_desktop.core.progress import ProgressEvent
from imgsim_desktop.core.store.cases.registry import relink_case
from imgsim_desktop.ui import window_settings
from imgsim_desktop.ui.case_browser import CaseBrowser
from imgsim_desktop.ui.detail_pane import DetailPane
from imgsim_desktop.ui.dialogs import (
    MovedChoice,
    about_text,
    ask_forget_missing,
    ask_moved,
    error_text,
    moved_line,
    unmounted_line,
)
from imgsim_desktop.ui.index_panel import IndexPanel
from imgsim_desktop.ui.model_guard import GuardedEmbedder
from imgsim_desktop.ui.model_loader import ModelLoader, ModelState
from imgsim_desktop.ui.overview import CaseOverview, status_line
from imgsim_desktop.ui.query_pane import QueryPane
from imgsim_desktop.ui.query_state import QueryState
from imgsim_desktop.ui.results.model import (
    MARK_INCLUDE,
    MarkRole,
    ResultsFilter,
    ResultsModel,
)
from imgsim_desktop.ui.results.thumbnails import ThumbnailProvider
from imgsim_desktop.ui.results.view import ResultsView
from imgsim_desktop.ui.session import CaseSession, IndexEnd, IndexOutcome
from imgsim_desktop.ui.tasks import Task, TaskGroup, TaskRunner
from imgsim_desktop.ui.window_actions import build_actions
from imgsim_desktop.ui.window_queries import WindowQueries

#: The title of the one message box a model that cannot load gives.
MODEL_ERROR_TITLE = "The model cannot load"


class MainWindow(QMainWindow, WindowQueries):
    """The application window (see the module docstring for signals).

    Attributes:
        runner: the pools every background task runs on.
        tasks: the window's own tasks (previews, exports, relinks); a case's are its session's.
        embedder: the one model of every case (a load failure is one message box).
        model_loader: loads it in the background once the window is on screen.
        session: the open case, or None.
        interactive: False in screenshot mode: no modal box; errors go to the status bar and
            questions get the answer that changes nothing.
    """

    results_shown = Signal(int)  # number of result rows
    preview_shown = Signal(int)  # rows of a query's quick first answer, before results_shown
    overview_shown = Signal()
    session_opened = Signal(object)  # CaseSession
    model_loaded = Signal(object)  # None when ready, else the ModelError

    def __init__(
        self,
        runner: TaskRunner | None = None,
        embedder: Embedder | None = None,
        head: SceneHead | None = None,
        remember_settings: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("imgsim-desktop")
        self.runner = runner or TaskRunner()
        self.tasks = TaskGroup(self.runner)
        self.embedder = GuardedEmbedder(embedder)
        self.model_loader = ModelLoader(self.embedder, self.tasks, self.runner)
        self._model_error_shown = False
        self._head = head
        self.session: CaseSession | None = None
        self.overview = CaseOverview()
        self.query_path: Path | None = None
        self.query_state = QueryState()
        self.scene_filter: list[str] | None = None
        self.last_result: QueryResult | None = None
        self._past_task: Task | None = None  # a search of past cases in flight
        self._open_case_id: str | None = None  # the open case's id, when past cases are shown
        self.interactive = True
        self._index_state = ""
        #: False in screenshot mode: the user's layout and recent cases are neither used nor changed.
        self.remember_settings = remember_settings
        self.thumbnails = ThumbnailProvider(self.runner.thumbs)
        self.model = ResultsModel(self.thumbnails, self)
        self.proxy = ResultsFilter(self)
        self.proxy.setSourceModel(self.model)

        self.browser = CaseBrowser()
        self.index_panel = IndexPanel()
        self.view = ResultsView()
        self.view.setModel(self.proxy)
        self.query_pane = QueryPane(self.tasks, self.runner.previews, remember=remember_settings)
        self.detail = DetailPane(self.tasks, self.runner.previews, self.thumbnails)
        self._build_layout()
        self._build_actions()
        self._connect()
        self.status = QLabel("Open a case folder to begin")
        self.status.setMinimumWidth(1)  # clipped, never widening the window
        self.statusBar().addWidget(self.status, 1)
        if remember_settings:
            self._restore_settings()
        else:
            self.resize(*window_settings.DEFAULT_SIZE)
        self.query_pane.set_model_state(ModelState.LOADING)

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
        actions = build_actions(self, self.view.delegate.tile_size)
        actions.open_case.triggered.connect(self.browser._choose)
        actions.open_image.triggered.connect(self.query_pane._open_image)
        actions.export.triggered.connect(self.export_report)
        actions.about.triggered.connect(self.show_about)
        actions.quit.triggered.connect(self.close)
        self.export_action, self.zoom = actions.export, actions.zoom
        self.show_hidden = actions.show_hidden
        self.hide_known = actions.hide_known
        self.near_copies_only = actions.near_copies_only

    def _connect(self) -> None:
        self.browser.open_requested.connect(lambda path: self.open_case(Path(path)))
        self.browser.folder_selected.connect(self.proxy.set_folder)
        self.browser.scenes_selected.connect(self.proxy.set_scenes)
        self.query_pane.query_requested.connect(lambda path: self.run_query(Path(path)))
        self.query_pane.options_changed.connect(self._rerun_query)
        self.query_pane.images_requested.connect(
            lambda paths: self.run_query_set([Path(p) for p in paths])
        )
        self.query_pane.region_requested.connect(self.set_region)
        tools = self.query_pane.tools
        tools.combine_changed.connect(self._rerun_query)
        tools.whole_image_requested.connect(lambda: self.set_region(None))
        tools.clear_requested.connect(self._clear_query)
        tools.learn_toggled.connect(lambda _on: self._rerun_query())
        tools.word_requested.connect(self.find_word)
        self.browser.scenes_selected.connect(self._remember_scenes)
        self.detail.region_query_requested.connect(self._query_by_region_of)
        add = QShortcut(QKeySequence("A"), self.view, context=Qt.ShortcutContext.WidgetShortcut)
        add.activated.connect(self.add_current_to_query)
        self.zoom.valueChanged.connect(self.view.set_tile_size)
        self.view.tile_size_changed.connect(self.zoom.setValue)
        self.view.mark_requested.connect(self._toggle_mark)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.show_hidden.toggled.connect(self.proxy.set_show_not_relevant)
        self.hide_known.toggled.connect(self._rerun_query)
        self.near_copies_only.toggled.connect(self.proxy.set_near_copies_only)
        self.detail.note_edited.connect(self._save_note)
        self.model_loader.state_changed.connect(self._on_model_state)

    # --- the model ------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Once this frame is on screen: the load's imports share the GIL with the GUI thread.
        QTimer.singleShot(0, self, self.model_loader.start)

    @property
    def model_ready(self) -> bool:
        return self.model_loader.state is ModelState.READY

    def _on_model_state(self, state: ModelState) -> None:
        error = self.model_loader.error
        self.query_pane.set_model_state(state, error)
        if state is ModelState.FAILED and error is not None:
            self.show_error(MODEL_ERROR_TITLE, error)
        self.model_loaded.emit(error if state is ModelState.FAILED else None)

    # --- case -----------------------------------------------------------------------------
    def open_case(self, root: Path) -> None:
        """Close the open case (if any), open ``root`` and index it in the background."""
        self.close_case()
        root = root.absolute()
        try:
            session = CaseSession(root, self.runner, self.embedder, self._head)
        except ImgsimError as exc:
            self.show_error("Cannot open the case", exc)
            return
        self.session = session
        if self.remember_settings:
            self.browser.set_recent(window_settings.remember_recent(str(root)))
        self.setWindowTitle(f"{root.name} — imgsim-desktop")
        self.model.set_marks(session.marks())
        session.bind(session.index_progress, self._on_progress)
        session.bind(session.index_ended, self._on_index_ended)
        session.bind(session.overview_ready, self._on_overview)
        session.bind(session.query_preview, self._on_query_preview)
        session.bind(session.query_finished, self._on_query_result)
        session.bind(session.find_finished, self._on_find_result)
        session.bind(session.query_waiting, lambda _path: self.query_pane.show_waiting())
        session.bind(session.error, self.show_error)
        session.bind(self.index_panel.pause_toggled, session.pause_indexing)
        session.bind(self.index_panel.cancel_requested, session.cancel_indexing)
        session.refresh_overview()
        self._start_indexing()
        self.session_opened.emit(session)

    def close_case(self) -> None:
        """Tear the open case down: its tasks cancelled, its signals cut, its traces cleared."""
        if self.session is not None:
            self.session.close()
            self.session = None
        self.overview = CaseOverview()
        self._index_state = ""
        self.last_result = None
        self.tasks.detach(self._past_task)
        self._past_task = None
        self.model_loader.forget("query")
        self.export_action.setEnabled(False)
        self.model.clear()
        self.model.set_marks({})
        self.proxy.set_folder("")
        self.proxy.set_scenes(None)
        self.browser.clear_case()
        self.index_panel.reset()
        self.query_pane.clear_result()
        self.detail.set_query(None)
        self.detail.show_record(None)
        self.setWindowTitle("imgsim-desktop")
        self.status.setText("Open a case folder to begin")

    def _start_indexing(self, allow_removal: bool = False, new_case: bool = False) -> None:
        if self.session is None:
            return
        self.index_panel.set_running(True, "Looking for new and changed files…")
        self._index_state = "indexing…"
        self.session.start_indexing(allow_removal=allow_removal, new_case=new_case)
        self._update_status()

    def _on_progress(self, event: ProgressEvent) -> None:
        self.index_panel.show_progress(event)
        if event.stage == "embed":
            self._index_state = f"indexing… {event.done} of {event.total}"
            self._update_status()

    def _on_index_ended(self, outcome: IndexOutcome) -> None:
        session, panel, summary = self.session, self.index_panel, outcome.summary
        if session is None:
            return
        if outcome.end is IndexEnd.FINISHED and summary is not None:
            panel.show_finished(summary)
            self._index_state = "index up to date"
        elif outcome.end is IndexEnd.CANCELLED:
            panel.show_cancelled(summary)
            self._index_state = "indexing cancelled (what was done is kept)"
        elif isinstance(outcome.error, EvidenceUnavailableError):
            if self.interactive and ask_forget_missing(self, session.root, outcome.error):
                self._start_indexing(allow_removal=True)
                return
            panel.set_running(False, unmounted_line(session.root, outcome.error))
            self._index_state = "evidence not found: nothing changed"
        elif isinstance(outcome.error, CaseMovedError):
            choice = ask_moved(self, session.root, outcome.error) if self.interactive else None
            if choice is MovedChoice.RELINK:
                self.relink(outcome.error.old_root, session.root)
                return
            if choice is MovedChoice.NEW_CASE:
                self._start_indexing(new_case=True)
                return
            panel.set_running(False, moved_line(outcome.error))
            self._index_state = "not indexed: a known case moved here"
        else:
            panel.set_running(False, f"Indexing failed: {error_text(outcome.error)}")
            self._index_state = "indexing failed"
            self.show_error("Indexing failed", outcome.error)
        self._update_status()

    def relink(self, old_root: str, new_root: Path) -> None:
        """Move the case indexed at ``old_root`` to ``new_root`` (a task), then open it there."""
        self.close_case()
        self.index_panel.set_running(False, f"Relinking the case indexed at {old_root}…")
        self.tasks.start(
            lambda _progress, _cancel: relink_case(old_root, new_root),
            name="relink",
            finished=lambda _infos: self.open_case(new_root),
            failed=lambda exc: self._on_relink_failed(new_root, exc),
        )

    def _on_relink_failed(self, new_root: Path, exc: BaseException) -> None:
        self.index_panel.set_running(False, f"Not relinked ({new_root}): {error_text(exc)}")
        self.show_error("Cannot relink the case", exc)

    def _on_overview(self, overview: CaseOverview) -> None:
        self.overview = overview
        if self.session is not None:
            self.browser.show_overview(self.session.root.name, overview)
        self.index_panel.show_failures(overview.failures)
        self._update_status()
        self.overview_shown.emit()

    def _update_status(self) -> None:
        if self.session is not None:
            self.status.setText(status_line(self.session.root, self.overview, self._index_state))

    # --- review ---------------------------------------------------------------------------
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.detail.show_record(None)
            return
        row = self.proxy.mapToSource(current).row()
        record = self.model.record(row)
        reviewable = self._reviewable(record)
        note = self.session.note(record.path, record.sha256) if self.session and reviewable else ""
        label = str(self.session.root) if self.session else ""
        if record.case_id is not None:  # a search of past cases
            label = record.case or record.case_id
        self.detail.show_record(
            record,
            note=note,
            request=self.model.request(row),
            case_label=label,
            reviewable=reviewable,
            near_copy_threshold=self.model.near_copy_threshold,
        )

    def _reviewable(self, record) -> bool:
        """True when ``record`` is a file of the open case (its marks and notes live there)."""
        if self.session is None:
            return False
        return record.case_id is None or record.case_id == self._open_case_id

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
        if not self._reviewable(record):
            self.statusBar().showMessage(
                f"A file of another case ({record.case}): open that case to mark it", 8000
            )
            return
        new = None if source.data(MarkRole) == mark else mark
        try:
            self.session.set_mark(record.path, record.sha256, new)
        except ImgsimError as exc:
            self.show_error("Cannot save the mark", exc)
            return
        self.model.set_mark(source.row(), new)

    def export_report(self) -> None:
        # Imported here: the report package (and reportlab with it) is not needed at start-up.
        from imgsim_desktop.ui.export_dialog import export_with_dialog

        if self.session is not None and self.last_result is not None:
            marked = self.model.count_marked(MARK_INCLUDE)
            root, result = self.session.root, self.last_result
            export_with_dialog(self, self.tasks, root, result, marked, self.show_error)

    # --- dialogs, settings ----------------------------------------------------------------
    def show_error(self, title: str, exc: object) -> None:
        message = error_text(exc)
        if title == MODEL_ERROR_TITLE:  # one message box, however many uses fail after it
            if self._model_error_shown:
                self.statusBar().showMessage(f"{title}: {message}", 10000)
                return
            self._model_error_shown = True
        self.statusBar().showMessage(f"{title}: {message}", 10000)
        if self.interactive:
            QMessageBox.warning(self, title, message)

    def show_about(self) -> None:
        try:
            if not self.model_loader.ended:
                raise ImgsimError("the model is still loading")
            identity, problem = self.embedder.identity, ""
        except ImgsimError as exc:
            identity, problem = None, str(exc)
        QMessageBox.about(self, "About imgsim-desktop", about_text(__version__, identity, problem))

    def _splitters(self) -> dict[str, QSplitter]:
        return {"splitter": self.splitter, "rightSplitter": self.right}

    def _restore_settings(self) -> None:
        tile = window_settings.restore_layout(self, self._splitters())
        self.browser.set_recent(window_settings.recent_cases())
        if tile is not None:
            self.view.set_tile_size(tile)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.remember_settings:
            window_settings.save_layout(self, self._splitters(), self.view.delegate.tile_size)
        if self.session is not None:
            self.session.close()
            self.session = None
        self.tasks.close()
        self.runner.shutdown()
        super().closeEvent(event)
