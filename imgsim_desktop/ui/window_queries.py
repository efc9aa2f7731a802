# SPDX-License-Identifier: Apache-2.0
"""The window's queries: what the query is made of (:class:`QueryState`: images, region), running
it on the open case or on past cases, word searches, and showing their answers in the grid.

A mixin of :class:`~imgsim_desktop.ui.mainwindow.MainWindow`, which owns the widgets, the
session and the signals named below; a new query always replaces the one in flight (the
session detaches it, or the past-case task is detached here), so only the last query's answer
reaches the grid.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox

from imgsim_desktop.core.errors import ImgsimError
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.query import QuerySettings
from imgsim_desktop.core.pipeline.richer.region import Region
from imgsim_desktop.core.pipeline.search import QueryResult
from imgsim_desktop.core.pipeline.words.find import FindResult
from imgsim_desktop.ui.detail_pane import DetailPane
from imgsim_desktop.ui.dialogs import error_text
from imgsim_desktop.ui.model_guard import GuardedEmbedder
from imgsim_desktop.ui.model_loader import ModelLoader
from imgsim_desktop.ui.past_cases import PastCaseSearch, search_past_cases
from imgsim_desktop.ui.query_pane import QueryPane
from imgsim_desktop.ui.query_state import QueryState
from imgsim_desktop.ui.results.model import RecordRole, ResultsFilter, ResultsModel
from imgsim_desktop.ui.results.view import ResultsView
from imgsim_desktop.ui.session import CaseSession
from imgsim_desktop.ui.tasks import Task, TaskGroup


class WindowQueries:
    """Query handling of the main window (see the module docstring)."""

    # Provided by MainWindow.
    results_shown: SignalInstance
    preview_shown: SignalInstance
    session: CaseSession | None
    query_pane: QueryPane
    query_state: QueryState
    query_path: Path | None
    scene_filter: list[str] | None
    last_result: QueryResult | None
    model: ResultsModel
    proxy: ResultsFilter
    view: ResultsView
    detail: DetailPane
    tasks: TaskGroup
    model_loader: ModelLoader
    embedder: GuardedEmbedder
    hide_known: QCheckBox
    export_action: QAction
    _head: SceneHead | None
    _past_task: Task | None
    _open_case_id: str | None
    show_error: Callable[[str, object], None]

    def run_query(self, path: Path) -> None:
        """Search the open case (what is indexed so far) with the image at ``path``."""
        self.query_state = QueryState([path])
        self._search()

    def run_query_set(self, paths: list[Path]) -> None:
        """Search with several images at once (combined as the query pane says)."""
        self.query_state = QueryState(list(paths))
        self._search()

    def add_to_query(self, path: Path) -> None:
        """Add an image to the query (several images combine as the query pane says)."""
        if path not in self.query_state.images:
            self.query_state = QueryState([*self.query_state.images, path], None)
        self._search()

    def add_current_to_query(self) -> None:
        """The selected result joins the query (key A on the grid)."""
        record = self.view.currentIndex().data(RecordRole)
        if record is not None:
            self.add_to_query(Path(record.absolute_path))

    def set_region(self, region: Region | None) -> None:
        """Search by ``region`` of the first query image (None: the whole image)."""
        if self.query_state.images:
            self.query_state = QueryState(self.query_state.images[:1], region)
            self._search()

    def _query_by_region_of(self, path: str) -> None:
        """From the detail pane: the result becomes the query, to draw a region on."""
        self.run_query(Path(path))
        self.query_pane.tools.made_of.setText(
            f"Query: {Path(path).name} · drag a rectangle on it to search by a region"
        )

    def _search(self) -> None:
        """Search with ``query_state``: the open case (what is indexed so far), or every past
        case when "Search past cases" is ticked (with the first image, whole)."""
        past = self.query_pane.past_cases.isChecked()
        if self.session is None and not past:
            self.show_error("No case open", ImgsimError("Open a case folder before searching."))
            return
        state, tools = self.query_state, self.query_pane.tools
        path = state.images[0]
        self.query_path = path
        self.query_pane.show_pending(path)
        tools.show_query(state.images, state.region)
        self.detail.set_query(path)
        self.model.clear()
        self.tasks.detach(self._past_task)
        self._past_task = None
        if self.session is not None:
            self.session.drop_query()
        if not self.model_loader.ended:  # kept, and run once the model is loaded
            self.query_pane.show_waiting_for_model()
            self.model_loader.when_ready("query", self._search)
            return
        if past:
            self._run_past_query(path)
            return
        assert self.session is not None
        self.session.query(
            path,
            self.query_pane.k.value(),
            self.query_pane.all_scenes.isChecked(),
            self.hide_known.isChecked(),
            spec=state.spec(tools.combine_mode()),
            learn=tools.learn.isChecked(),
        )

    def _clear_query(self) -> None:
        if self.query_state.images:
            self.run_query(self.query_state.images[0])

    def _rerun_query(self) -> None:
        past = self.query_pane.past_cases.isChecked()
        if self.query_state.images and (self.session is not None or past):
            self._search()

    def _remember_scenes(self, scenes: set[str] | None) -> None:
        self.scene_filter = sorted(scenes) if scenes else None

    def find_word(self, word: str) -> None:
        """Rank the case's images by an object word, within the scenes selected in the browser."""
        if self.session is None:
            self.show_error("No case open", ImgsimError("Open a case folder before searching."))
            return
        self.model.clear()
        self.query_pane.searched.setText(f"finding '{word}'…")
        self.session.find(word, self.query_pane.k.value(), self.scene_filter)

    def _on_find_result(self, result: FindResult) -> None:
        self.last_result = None  # a report is of an image query
        self.export_action.setEnabled(False)
        self.query_pane.show_find(result)
        self.model.set_results(result.results)
        if self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self.results_shown.emit(self.model.rowCount())

    def _run_past_query(self, path: Path) -> None:
        settings = QuerySettings(
            k=self.query_pane.k.value(),
            all_scenes=self.query_pane.all_scenes.isChecked(),
            hide_known=self.hide_known.isChecked(),
        )
        libraries = list(self.query_pane.library_folders)
        embedder, head = self.embedder, self._head
        root = self.session.root if self.session is not None else None
        self.query_pane.searched.setText("searching past cases…")
        self._past_task = self.tasks.start(
            lambda _progress, _cancel: search_past_cases(
                path, libraries, embedder, head, settings, root
            ),
            name="search past cases",
            finished=self._on_past_result,
            failed=self._on_past_failed,
        )

    def _on_past_failed(self, exc: BaseException) -> None:
        self._past_task = None
        self.query_pane.searched.setText(f"not searched: {error_text(exc)}")
        self.show_error("Search of past cases failed", exc)

    def _on_past_result(self, search: PastCaseSearch) -> None:
        self._past_task = None
        result = search.result
        self.last_result = result
        self._open_case_id = search.open_case_id
        self.export_action.setEnabled(False)  # a report is of one case: search it alone
        self.query_pane.show_past_result(search)
        self.model.set_results(result.results, search.archives, result.settings.near_copy_threshold)
        if self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self.results_shown.emit(self.model.rowCount())

    def _on_query_preview(self, result: QueryResult) -> None:
        """The query's quick first answer: its tiles (and their thumbnails) at once; the full
        answer replaces it (:meth:`_on_query_result`), with the reading of the query."""
        self.query_pane.searched.setText("first results; refining…")
        self.model.set_results(
            result.results, near_copy_threshold=result.settings.near_copy_threshold
        )
        self.preview_shown.emit(self.model.rowCount())

    def _on_query_result(self, result: QueryResult) -> None:
        self.last_result = result
        self._open_case_id = None
        self.export_action.setEnabled(True)
        indexing = self.session is not None and self.session.indexing
        self.query_pane.show_result(result, indexing=indexing)
        self.model.set_results(
            result.results, near_copy_threshold=result.settings.near_copy_threshold
        )
        if self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self.results_shown.emit(self.model.rowCount())
