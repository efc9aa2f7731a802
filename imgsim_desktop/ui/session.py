# SPDX-License-Identifier: Apache-2.0
"""The open case as the window sees it: background indexing, queries, overview and marks.

Every piece of work is a core call run on a pool thread; each task opens its own
:class:`~imgsim_desktop.core.Case` (SQLite connections belong to one thread) over one shared
embedder, so the model is loaded once. A new query replaces the one in flight: the old worker is
cancelled and its signals disconnected, so its results cannot land.

Signals:
    index_progress: (ProgressEvent) from the indexer.
    index_finished: (IndexSummary | None) None when cancelled; the index is usable either way.
    overview_ready: (CaseOverview) folder and scene counts of the catalogue.
    query_started: (str) path of the query image.
    query_finished: (QueryResult)
    error: (str, Exception) a title and what went wrong, for one message box.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from imgsim_desktop.core import Cancelled, open_case
from imgsim_desktop.core.errors import ImgsimError
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder, Embedder
from imgsim_desktop.core.report.export import export_report
from imgsim_desktop.core.store.catalog import STATUS_INDEXED
from imgsim_desktop.ui.workers import Pools, Worker


@dataclass
class CaseOverview:
    """Counts for the case browser and the status bar."""

    files: int = 0
    images: int = 0
    failed: int = 0
    bytes: int = 0
    folders: Counter = field(default_factory=Counter)  # "a/b" -> images below it (recursive)
    scenes: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)


def case_overview(root: Path) -> CaseOverview:
    """Aggregate the catalogue (run on a pool thread)."""
    overview = CaseOverview()
    with open_case(root, log_open=False) as case:
        if not case.is_indexed:
            return overview
        for record in case.files():
            overview.files += 1
            if record.status == STATUS_INDEXED:
                overview.images += 1
                overview.bytes += record.size
                overview.scenes[record.scene or "other"] += 1
                parts = record.path.split("/")[:-1]
                overview.folders[""] += 1
                for depth in range(1, len(parts) + 1):
                    overview.folders["/".join(parts[:depth])] += 1
            elif record.status == "failed":
                overview.failed += 1
                overview.failures.append((record.path, record.error or ""))
    return overview


class CaseSession(QObject):
    """One open case (see the module docstring for signals)."""

    index_progress = Signal(object)  # ProgressEvent
    index_finished = Signal(object)  # IndexSummary, or None when cancelled
    overview_ready = Signal(object)  # CaseOverview
    query_started = Signal(str)  # query image path
    query_finished = Signal(object)  # QueryResult
    error = Signal(str, object)  # title, exception

    def __init__(self, root: Path, pools: Pools, embedder: Embedder | None = None) -> None:
        super().__init__()
        self.root = root
        self.pools = pools
        self.embedder = embedder or EfficientNetLiteEmbedder()
        self.index_worker: Worker | None = None
        self.query_worker: Worker | None = None
        self.index_started_at = 0.0
        self.indexing = False
        # Used on the GUI thread only (marks are small, quick writes); opening it is audited.
        self.case = open_case(root, embedder=self.embedder)

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

    def close(self) -> None:
        for worker in (self.index_worker, self.query_worker):
            if worker is not None:
                worker.cancel()
        self.case.close()

    # --- indexing -------------------------------------------------------------------------
    def start_indexing(self) -> None:
        root, embedder = self.root, self.embedder

        def task(progress, cancel):
            with open_case(root, embedder=embedder, log_open=False) as case:
                try:
                    return case.index(progress=progress, cancel=cancel)
                except Cancelled:
                    return None

        worker = Worker(task)
        worker.signals.progress.connect(self.index_progress)
        worker.signals.result.connect(self._on_indexed)
        worker.signals.error.connect(lambda exc: self._on_index_error(exc))
        self.index_worker = worker
        self.indexing = True
        self.index_started_at = time.monotonic()
        self.pools.start(worker)

    def _on_indexed(self, summary) -> None:
        self.indexing = False
        self.index_finished.emit(summary)
        self.refresh_overview()

    def _on_index_error(self, exc: Exception) -> None:
        self.indexing = False
        self.error.emit("Indexing failed", exc)
        self.index_finished.emit(None)

    def pause_indexing(self, paused: bool) -> None:
        if self.index_worker is not None:
            (self.index_worker.pause if paused else self.index_worker.resume)()

    def cancel_indexing(self) -> None:
        if self.index_worker is not None:
            self.index_worker.cancel()

    # --- overview -------------------------------------------------------------------------
    def refresh_overview(self) -> None:
        root = self.root
        worker = Worker(lambda _p, _c: case_overview(root))
        worker.signals.result.connect(self.overview_ready)
        worker.signals.error.connect(lambda exc: self.error.emit("Cannot read the catalogue", exc))
        self.pools.start(worker)

    # --- queries --------------------------------------------------------------------------
    def query(self, image: Path, k: int, all_scenes: bool, hide_known: bool = False) -> None:
        """Search; a query still running is cancelled and its result discarded."""
        if self.query_worker is not None:
            self.query_worker.cancel()
        root, embedder = self.root, self.embedder

        def task(_progress, _cancel):
            with open_case(root, embedder=embedder, log_open=False) as case:
                return case.query(image, k=k, all_scenes=all_scenes, hide_known=hide_known)

        worker = Worker(task)
        # Only the latest query may deliver: a replaced one's queued signals are ignored.
        worker.signals.result.connect(lambda result, w=worker: self._deliver(w, result))
        worker.signals.error.connect(
            lambda exc, w=worker: w is self.query_worker and self.error.emit("Search failed", exc)
        )
        self.query_worker = worker
        self.query_started.emit(str(image))
        self.pools.start(worker)

    # --- export ---------------------------------------------------------------------------
    def export(self, result, options, out: Path, overwrite: bool) -> Worker:
        """Write a report of ``result`` on a pool thread; the worker's result is the written report."""
        root = self.root

        def task(_progress, _cancel):
            with open_case(root, log_open=False) as case:
                return export_report(case, result, options, out, force=overwrite)

        worker = Worker(task)
        worker.signals.error.connect(lambda exc: self.error.emit("Export failed", exc))
        self.pools.start(worker)
        return worker

    def _deliver(self, worker: Worker, result) -> None:
        if worker is self.query_worker:
            self.query_finished.emit(result)

    @staticmethod
    def is_expected(exc: BaseException) -> bool:
        return isinstance(exc, ImgsimError | OSError)
