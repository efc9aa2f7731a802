# SPDX-License-Identifier: Apache-2.0
"""The one place background work starts: tasks that always end, and groups that own them.

A task is a plain callable ``work(progress, cancel)`` (the core's long functions take exactly
these), run on a QThreadPool by :class:`Task`: a QRunnable with a composed QObject of signals, in
the shape of superqt's workers. Whatever happens, a task emits exactly one terminal signal:

- ``finished(result)``: it ran to the end and nobody asked it to stop;
- ``cancelled(kept)``: it stopped on request; ``kept`` is what was done and kept (the ``summary``
  the core's :class:`~imgsim_desktop.core.errors.Cancelled` carries, else what the work returned,
  else None when it never started);
- ``failed(error)``: it raised anything else.

Cancel and pause are cooperative: the core polls ``cancel()`` between batches, and a paused task
blocks inside that poll, so the core needs no notion of pausing. Tasks never touch widgets; their
results reach the GUI thread only through queued signals.

:class:`TaskGroup` is how an owner (a case session, the window) starts work: it keeps its tasks and
every connection it made, and ``close()`` cancels the tasks, disconnects the connections and drops
deliveries that were already queued (Qt still delivers a queued signal after a disconnect).
:class:`TaskRunner` owns the pools and, at shutdown, cancels every task and waits for the pools.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, SignalInstance

from imgsim_desktop.core.errors import Cancelled

Work = Callable[[Callable[[Any], None], Callable[[], bool]], Any]


class TaskEnd(str, Enum):
    """How a task ended (the name of the terminal signal it emitted)."""

    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


class TaskSignals(QObject):
    """Signals of one task; exactly one of the last three is emitted, once.

    Signals:
        progress: (event) a progress event from the work (a core ProgressEvent).
        finished: (result) the work returned and was not asked to stop.
        cancelled: (kept) the work stopped on request; what was done and kept, or None.
        failed: (error) the exception the work raised.
    """

    progress = Signal(object)  # ProgressEvent, or any object the work reports
    finished = Signal(object)  # the work's return value
    cancelled = Signal(object)  # what was kept (IndexSummary, the return value, or None)
    failed = Signal(object)  # the exception


class Task(QRunnable):
    """Runs ``work(progress, cancel)`` on a pool thread and reports how it ended.

    Attributes:
        name: what the task does (for messages and tests).
        signals: the task's :class:`TaskSignals` (connect before starting).
        end: how it ended (None while it runs).
        done: set once the terminal signal has been emitted.
        detached: set by its :class:`TaskGroup` when it was replaced: its deliveries are dropped.
    """

    def __init__(self, work: Work, name: str = "") -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps it until its terminal signal is delivered
        self.name = name
        self.signals = TaskSignals()
        self.end: TaskEnd | None = None
        self.done = threading.Event()
        self.detached = False
        self._work = work
        self._abort = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        """Ask the work to stop at its next check (this also releases a pause)."""
        self._abort.set()
        self._running.set()

    def pause(self) -> None:
        if not self._abort.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancel_requested(self) -> bool:
        return self._abort.is_set()

    def _should_stop(self) -> bool:
        self._running.wait()
        return self._abort.is_set()

    def _outcome(self) -> tuple[TaskEnd, Any]:
        if self._abort.is_set():  # cancelled while it waited in the queue: nothing to do
            return TaskEnd.CANCELLED, None
        try:
            value = self._work(self.signals.progress.emit, self._should_stop)
        except Cancelled as exc:
            return TaskEnd.CANCELLED, exc.summary
        except BaseException as exc:  # reported to the GUI thread, never lost
            return TaskEnd.FAILED, exc
        return (TaskEnd.CANCELLED if self._abort.is_set() else TaskEnd.FINISHED), value

    def run(self) -> None:
        end, payload = TaskEnd.FAILED, None
        try:
            end, payload = self._outcome()
        finally:
            # What the work captured (a run's 200,000 failures...) is freed here, on this pool
            # thread: freed on the GUI thread, with the task, it would stall the window.
            self._work = _finished_work
            self.end = end
            signal: SignalInstance = getattr(self.signals, end.value)
            try:
                signal.emit(payload)
            finally:
                self.done.set()


def _finished_work(_progress: Callable[[Any], None], _cancel: Callable[[], bool]) -> None:
    """What a task holds once its work has run (nothing)."""


class TaskRunner:
    """The application's pools, each with a stated purpose, and every task started on them.

    Attributes:
        index: indexing, at a lower priority (see ``background.py``; 2 threads: a case opened
            while the last one's indexing still finishes its batch is not held back).
        work: queries, overviews, exports, relinks (2 threads).
        previews: the detail pane's and the query pane's previews and EXIF reads (2 threads).
        thumbs: the result grid's thumbnails (their own jobs, see results/thumbnails.py).
        model: loading the model once the window is on screen (1 thread, so that it never
            holds back indexing, the case overview or a query).
    """

    def __init__(self) -> None:
        self.index = QThreadPool()
        self.index.setMaxThreadCount(2)
        self.work = QThreadPool()
        self.work.setMaxThreadCount(2)
        self.previews = QThreadPool()
        self.previews.setMaxThreadCount(2)
        self.thumbs = QThreadPool()
        self.thumbs.setMaxThreadCount(max(1, min(4, QThreadPool.globalInstance().maxThreadCount())))
        self.model = QThreadPool()
        self.model.setMaxThreadCount(1)
        self._live: dict[int, Task] = {}

    def start(self, task: Task, pool: QThreadPool | None = None) -> Task:
        key = id(task)  # the slot holds the key, not the task: no cycle through Qt
        self._live[key] = task
        for signal in (task.signals.finished, task.signals.cancelled, task.signals.failed):
            signal.connect(lambda _payload, key=key: self._live.pop(key, None))
        (pool or self.work).start(task)
        return task

    def running(self) -> list[Task]:
        """Tasks that have not ended yet."""
        return [task for task in self._live.values() if not task.done.is_set()]

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel every task and wait for every pool; True when all stopped in time."""
        for task in list(self._live.values()):
            task.cancel()
        self.thumbs.clear()
        pools = (self.index, self.work, self.previews, self.thumbs, self.model)
        return all([pool.waitForDone(timeout_ms) for pool in pools])


class TaskGroup:
    """The tasks and signal connections of one owner; :meth:`close` ends both.

    Every slot connected through the group is guarded: once the group is closed, or the task it
    listens to was :meth:`detach`-ed, a delivery still in Qt's queue is dropped. A task's
    connections are released once its terminal signal has been delivered.

    Attributes:
        closed: True after :meth:`close`; nothing more is delivered or started.
    """

    def __init__(self, runner: TaskRunner) -> None:
        self.runner = runner
        self.closed = False
        self._tasks: list[Task] = []
        #: connections by the task they listen to (None: not a task's, e.g. a session's signals)
        self._connections: dict[Task | None, list[tuple[SignalInstance, Callable[..., None]]]] = {}

    def start(
        self,
        work: Work,
        *,
        name: str = "",
        pool: QThreadPool | None = None,
        progress: Callable[[Any], None] | None = None,
        finished: Callable[[Any], None] | None = None,
        cancelled: Callable[[Any], None] | None = None,
        failed: Callable[[Any], None] | None = None,
    ) -> Task:
        """Start ``work`` with these slots connected (each guarded, see the class docstring)."""
        if self.closed:
            raise RuntimeError("this task group is closed")
        task = Task(work, name)
        signals = task.signals
        for signal, slot in (
            (signals.progress, progress),
            (signals.finished, finished),
            (signals.cancelled, cancelled),
            (signals.failed, failed),
        ):
            if slot is not None:
                self.connect(signal, slot, task)
        for signal in (signals.finished, signals.cancelled, signals.failed):  # after the slots
            self._add(task, signal, lambda _payload, t=task: self._release(t))
        self._tasks = [t for t in self._tasks if not t.done.is_set()] + [task]
        self.runner.start(task, pool)
        return task

    def connect(
        self, signal: SignalInstance, slot: Callable[..., None], task: Task | None = None
    ) -> None:
        """Connect ``slot`` to ``signal`` until the group closes (or ``task`` is detached)."""

        def guarded(*args: Any) -> None:
            if not self.closed and not (task is not None and task.detached):
                slot(*args)

        self._add(task, signal, guarded)

    def _add(self, task: Task | None, signal: SignalInstance, slot: Callable[..., None]) -> None:
        signal.connect(slot)
        self._connections.setdefault(task, []).append((signal, slot))

    def _release(self, task: Task | None) -> None:
        for signal, slot in self._connections.pop(task, []):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)

    def detach(self, task: Task | None) -> None:
        """Cancel ``task`` and drop everything it would still deliver (a replaced query)."""
        if task is None:
            return
        task.detached = True
        task.cancel()
        self._release(task)

    def running(self) -> list[Task]:
        return [task for task in self._tasks if not task.done.is_set()]

    def close(self) -> None:
        """Cancel every task of the group and disconnect every connection it made."""
        self.closed = True
        for task in self._tasks:
            task.cancel()
        for owner in list(self._connections):
            self._release(owner)
