# SPDX-License-Identifier: Apache-2.0
"""Running core functions off the GUI thread: one generic QRunnable with a signals QObject.

A task is a plain callable ``fn(progress, cancel)``; its progress events, result or error come back
to the GUI thread through queued signals. Cancellation is cooperative (the core polls ``cancel()``
between batches); pausing blocks inside that poll, so the core needs no notion of it. Widgets are
never touched from a task.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

Task = Callable[[Callable[[Any], None], Callable[[], bool]], Any]


class WorkerSignals(QObject):
    """Signals of one task.

    Signals:
        progress: (event) a progress event from the core.
        result: (value) what the task returned.
        error: (exception) what the task raised.
        finished: () the task ended, whatever the outcome.
    """

    progress = Signal(object)  # core ProgressEvent (or any object the task reports)
    result = Signal(object)  # the task's return value
    error = Signal(object)  # the exception it raised
    finished = Signal()


class Worker(QRunnable):
    """Runs ``task(progress, cancel)`` on a pool thread.

    Attributes:
        signals: the task's :class:`WorkerSignals` (connect before starting).
    """

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._task = task
        self.signals = WorkerSignals()
        self._abort = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.done = threading.Event()

    def cancel(self) -> None:
        """Ask the task to stop at its next check (also releases a pause)."""
        self._abort.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._abort.is_set()

    def _should_stop(self) -> bool:
        self._running.wait()
        return self._abort.is_set()

    def run(self) -> None:
        try:
            value = self._task(self.signals.progress.emit, self._should_stop)
        except BaseException as exc:  # delivered to the GUI thread's single error handler
            if not self._abort.is_set():
                self.signals.error.emit(exc)
        else:
            if not self._abort.is_set():
                self.signals.result.emit(value)
        finally:
            self.done.set()
            self.signals.finished.emit()


class Pools:
    """The application's thread pools, each with a stated purpose.

    Attributes:
        work: indexing and queries (2 threads: a query can run while a case is being indexed).
        thumbs: thumbnail decoding (as many threads as CPUs, at most 4).
    """

    def __init__(self) -> None:
        self.work = QThreadPool()
        self.work.setMaxThreadCount(2)
        self.thumbs = QThreadPool()
        self.thumbs.setMaxThreadCount(max(1, min(4, QThreadPool.globalInstance().maxThreadCount())))
        self._workers: list[Worker] = []

    def start(self, worker: Worker, pool: QThreadPool | None = None) -> Worker:
        self._workers = [w for w in self._workers if not w.done.is_set()]
        self._workers.append(worker)
        (pool or self.work).start(worker)
        return worker

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel every task and wait for the pools to drain; True when all stopped in time."""
        for worker in self._workers:
            worker.cancel()
        self.thumbs.clear()
        ok = self.work.waitForDone(timeout_ms)
        return self.thumbs.waitForDone(timeout_ms) and ok
