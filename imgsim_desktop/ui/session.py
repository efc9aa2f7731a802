# SPDX-License-Identifier: Apache-2.0
"""The open case as the window sees it: background indexing, queries, the overview and marks.

Every piece of work is a core call run as a task of the session's own
:class:`~imgsim_desktop.ui.tasks.TaskGroup`; each task opens its own
:class:`~imgsim_desktop.core.Case` (SQLite connections belong to one thread) over the window's
one embedder, so the model is loaded once. ``close()`` cancels the session's tasks and cuts every
connection it made, so nothing of this case reaches the widgets once another case is open.

Queries run on whatever is indexed so far; one asked before the first batch of a first index is
committed waits for it. A new query replaces the one in flight (its late signals never land).

Signals:
    index_progress: (ProgressEvent) from the indexer.
    index_ended: (IndexOutcome) how an indexing run ended (exactly once per run).
    overview_ready: (CaseOverview) folder and scene counts of the catalogue.
    query_waiting: (str) a query waits for the first images to be indexed.
    query_preview: (QueryResult) a quick first answer (the upright view alone), before
        query_finished; a plain one-image query only.
    query_finished: (QueryResult)
    find_finished: (FindResult) a word search's results.
    error: (str, Exception) a title and what went wrong, for one message box.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

from imgsim_desktop.core import IndexSummary, open_case
from imgsim_desktop.core.errors import (
    CaseMovedError,
    EvidenceUnavailableError,
    ImgsimError,
    NotIndexedError,
)
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.richer.composite import QuerySpec
from imgsim_desktop.core.progress import ProgressEvent
from imgsim_desktop.ui.background import bulk_work
from imgsim_desktop.ui.model_guard import GuardedEmbedder
from imgsim_desktop.ui.overview import CaseOverview, case_overview
from imgsim_desktop.ui.tasks import Task, TaskGroup, TaskRunner


def _overview(root: Path, run_failures: list[dict[str, str]]) -> CaseOverview:
    with bulk_work():
        return case_overview(root, run_failures)


class IndexEnd(str, Enum):
    """How an indexing run ended."""

    FINISHED = "finished"
    CANCELLED = "cancelled"  # what was done is kept; the next run continues
    UNMOUNTED = "unmounted"  # refused, nothing changed: the evidence looks unmounted
    MOVED = "moved"  # refused, nothing changed: the folder holds a known case that moved
    FAILED = "failed"


@dataclass(frozen=True)
class IndexOutcome:
    """An indexing run's end: its summary (kept work when cancelled) or its error."""

    end: IndexEnd
    summary: IndexSummary | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class _Query:
    image: Path
    k: int
    all_scenes: bool
    hide_known: bool = False
    spec: QuerySpec | None = None
    learn: bool = False


class CaseSession(QObject):
    """One open case (see the module docstring for signals).

    Attributes:
        root: the case folder.
        indexing: True while an indexing run of this session is in flight.
        last_progress: the indexer's latest embed event (None before one).
    """

    index_progress = Signal(object)  # ProgressEvent
    index_ended = Signal(object)  # IndexOutcome
    overview_ready = Signal(object)  # CaseOverview
    query_waiting = Signal(str)  # query image path
    query_preview = Signal(object)  # QueryResult: the quick first answer of the query in flight
    query_finished = Signal(object)  # QueryResult
    find_finished = Signal(object)  # FindResult
    error = Signal(str, object)  # title, exception

    def __init__(
        self,
        root: Path,
        runner: TaskRunner,
        embedder: Embedder | None = None,
        head: SceneHead | None = None,
    ) -> None:
        super().__init__()
        self.root = root
        self.tasks = TaskGroup(runner)
        self.embedder = embedder if embedder is not None else GuardedEmbedder()
        self.head = head
        self.index_task: Task | None = None
        self.query_task: Task | None = None
        self.index_started_at = 0.0
        self.indexing = False
        self.last_progress: ProgressEvent | None = None
        self._waiting: _Query | None = None
        # Used on the GUI thread only (marks are small, quick writes); opening it is audited.
        self.case = open_case(root, embedder=self.embedder, head=head)

    def bind(self, signal: SignalInstance, slot: Any) -> None:
        """Connect one of this session's signals; cut by :meth:`close`."""
        self.tasks.connect(signal, slot)

    def close(self) -> None:
        """Cancel every task, disconnect every connection; the session is done."""
        self.tasks.close()
        self.indexing = False
        self._waiting = None
        self.case.close()

    @property
    def closed(self) -> bool:
        return self.tasks.closed

    # --- marks ----------------------------------------------------------------------------
    def marks(self) -> dict[tuple[str, str | None], str]:
        return {key: m.mark for key, m in self.case.marks.all().items() if m.mark}

    def set_mark(self, path: str, sha256: str | None, mark: str | None) -> None:
        if sha256 is None:
            raise ImgsimError(f"{path} has no hash in the catalogue; it cannot be marked")
        self.case.set_mark(path, sha256, mark)

    def note(self, path: str, sha256: str | None) -> str:
        mark = self.case.mark_for(path, sha256)
        return (mark.note or "") if mark else ""

    def set_note(self, path: str, sha256: str | None, note: str) -> None:
        if sha256 is None:
            raise ImgsimError(f"{path} has no hash in the catalogue; it cannot carry a note")
        self.case.set_note(path, sha256, note or None)

    # --- indexing -------------------------------------------------------------------------
    def start_indexing(self, allow_removal: bool = False, new_case: bool = False) -> None:
        """Index in the background; ``allow_removal`` and ``new_case`` as in ``Case.index``."""
        root, embedder, head = self.root, self.embedder, self.head

        def work(progress, cancel) -> IndexSummary:
            with bulk_work(), open_case(root, embedder=embedder, head=head, log_open=False) as case:
                return case.index(progress, cancel, allow_removal=allow_removal, new_case=new_case)

        self.indexing = True
        self.last_progress = None
        self.index_started_at = time.monotonic()
        self.index_task = self.tasks.start(
            work,
            name="index",
            pool=self.tasks.runner.index,
            progress=self._on_progress,
            finished=lambda summary: self._index_ended(IndexOutcome(IndexEnd.FINISHED, summary)),
            cancelled=lambda kept: self._index_ended(IndexOutcome(IndexEnd.CANCELLED, kept)),
            failed=self._on_index_failed,
        )

    def _on_progress(self, event: ProgressEvent) -> None:
        if event.stage == "embed":
            self.last_progress = event
            if event.done > 0 and self._waiting is not None:  # a first batch is committed
                self._run_waiting()
        self.index_progress.emit(event)

    def _on_index_failed(self, exc: BaseException) -> None:
        if isinstance(exc, EvidenceUnavailableError):
            end = IndexEnd.UNMOUNTED
        elif isinstance(exc, CaseMovedError):
            end = IndexEnd.MOVED
        else:
            end = IndexEnd.FAILED
        self._index_ended(IndexOutcome(end, error=exc))

    def _index_ended(self, outcome: IndexOutcome) -> None:
        self.indexing = False
        self.index_task = None
        self.index_ended.emit(outcome)
        if self.closed:  # the window opened another case (or relinked this one) meanwhile
            return
        load_error = getattr(self.embedder, "load_error", None)
        if load_error is not None and outcome.end is not IndexEnd.FAILED:
            self.error.emit("The model cannot load", load_error)
            if self.closed:  # a slot ended the session (screenshot mode exits on an error)
                return
        if self._waiting is not None:
            self._run_waiting()
        self.refresh_overview(outcome.summary.failed if outcome.summary is not None else [])

    def pause_indexing(self, paused: bool) -> None:
        if self.index_task is not None:
            (self.index_task.pause if paused else self.index_task.resume)()

    def cancel_indexing(self) -> None:
        if self.index_task is not None:
            self.index_task.cancel()

    # --- overview -------------------------------------------------------------------------
    def refresh_overview(self, run_failures: list[dict[str, str]] | None = None) -> None:
        """Aggregate the catalogue off the GUI thread (``run_failures``: the last run's)."""
        root, failed = self.root, run_failures or []
        self.tasks.start(
            lambda _progress, _cancel: _overview(root, failed),
            name="overview",
            finished=self.overview_ready.emit,
            failed=lambda exc: self.error.emit("Cannot read the catalogue", exc),
        )

    # --- queries --------------------------------------------------------------------------
    def query(
        self,
        image: Path,
        k: int,
        all_scenes: bool,
        hide_known: bool = False,
        spec: QuerySpec | None = None,
        learn: bool = False,
    ) -> None:
        """Search what is indexed so far; a query still in flight is replaced. ``spec``: a
        region, several images (see :class:`QuerySpec`); ``learn``: the case's marks are
        feedback examples."""
        self.tasks.detach(self.query_task)
        self._waiting = None
        wanted = _Query(image, k, all_scenes, hide_known, spec, learn)
        root, embedder, head = self.root, self.embedder, self.head

        def work(progress, _cancel):
            with open_case(root, embedder=embedder, head=head, log_open=False) as case:
                if spec is None and not learn:
                    return case.query(
                        image, k=k, all_scenes=all_scenes, hide_known=hide_known, preview=progress
                    )
                asked = spec or QuerySpec((str(image),))
                if learn:
                    positives, negatives = case.feedback_ids()
                    asked = dataclasses.replace(
                        asked, positive_ids=positives, negative_ids=negatives
                    )
                return case.query_spec(asked, k=k, all_scenes=all_scenes, hide_known=hide_known)

        self.query_task = self.tasks.start(
            work,
            name="query",
            progress=self.query_preview.emit,
            finished=self.query_finished.emit,
            failed=lambda exc: self._on_query_failed(wanted, exc),
        )

    def drop_query(self) -> None:
        """Forget the query in flight or waiting (another kind of search replaced it)."""
        self.tasks.detach(self.query_task)
        self.query_task = None
        self._waiting = None

    def _on_query_failed(self, wanted: _Query, exc: BaseException) -> None:
        self.query_task = None
        if isinstance(exc, NotIndexedError) and self.indexing:
            self._waiting = wanted  # runs again once the first batch is committed
            self.query_waiting.emit(str(wanted.image))
            return
        self.error.emit("Search failed", exc)

    def _run_waiting(self) -> None:
        wanted, self._waiting = self._waiting, None
        if wanted is not None:
            self.query(
                wanted.image, wanted.k, wanted.all_scenes, wanted.hide_known, wanted.spec,
                wanted.learn,
            )  # fmt: skip

    def find(self, word: str, k: int, scenes: list[str] | None) -> None:
        """Rank the case's images by an object word (replaces a query in flight)."""
        self.tasks.detach(self.query_task)
        self._waiting = None
        root, embedder, head = self.root, self.embedder, self.head

        def work(_progress, _cancel):
            with open_case(root, embedder=embedder, head=head, log_open=False) as case:
                return case.find(word, k=k, scenes=scenes)

        self.query_task = self.tasks.start(
            work,
            name="find",
            finished=self.find_finished.emit,
            failed=lambda exc: self.error.emit("Word search failed", exc),
        )
