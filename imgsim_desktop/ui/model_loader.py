# SPDX-License-Identifier: Apache-2.0
"""The model, loaded in the background once the window is on screen, and the work that waits
for it.

The window shows first; then :class:`ModelLoader` runs :func:`~imgsim_desktop.ui.model_guard.load_model`
(torch's libraries loaded without stalling the GUI thread, then the network) as a task on the
runner's model pool. Until it has ended, work that needs the model (a query, a search of past
cases) is kept by :meth:`ModelLoader.when_ready`, the latest of each kind, and runs once the
load ended, whether it succeeded or not (a failed load is one message box; a query then says why
it cannot run). Indexing does not wait: reading, hashing and cataloguing need no model, and its
first batch to embed waits inside the embedder.

Signals:
    state_changed: (ModelState) the load ended (READY or FAILED).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QObject, Signal

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.ui.background import lower_this_thread
from imgsim_desktop.ui.model_guard import GuardedEmbedder, load_model
from imgsim_desktop.ui.tasks import Task, TaskGroup, TaskRunner


def _load_beside_the_window(embedder: GuardedEmbedder) -> None:
    lower_this_thread()  # the model pool's own thread: loading torch is mostly CPU without the GIL
    load_model(embedder)


class ModelState(str, Enum):
    """Where the model is."""

    NOT_STARTED = "not_started"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class ModelLoader(QObject):
    """Loads ``embedder``'s model on ``runner.model`` (see the module docstring).

    Attributes:
        state: the :class:`ModelState`.
        error: why the load failed (a ModelError), or None.
    """

    state_changed = Signal(object)  # ModelState

    def __init__(self, embedder: GuardedEmbedder, tasks: TaskGroup, runner: TaskRunner) -> None:
        super().__init__()
        self.state = ModelState.NOT_STARTED
        self.error: ModelError | None = None
        self._embedder = embedder
        self._tasks = tasks
        self._runner = runner
        self._task: Task | None = None
        self._waiting: dict[str, Callable[[], None]] = {}

    @property
    def ended(self) -> bool:
        """The load ended (ready or failed): work no longer waits."""
        return self.state in (ModelState.READY, ModelState.FAILED)

    def start(self) -> None:
        """Start loading (once; later calls do nothing)."""
        if self.state is not ModelState.NOT_STARTED or self._tasks.closed:
            return
        self.state = ModelState.LOADING
        embedder = self._embedder
        self._task = self._tasks.start(
            lambda _progress, _cancel: _load_beside_the_window(embedder),
            name="load model",
            pool=self._runner.model,
            finished=lambda _none: self._ended(ModelState.READY, None),
            cancelled=lambda _none: self._ended(ModelState.FAILED, None),
            failed=self._on_failed,
        )

    def _on_failed(self, exc: BaseException) -> None:
        error = exc if isinstance(exc, ModelError) else ModelError(f"the model cannot load: {exc}")
        self._ended(ModelState.FAILED, error)

    def _ended(self, state: ModelState, error: ModelError | None) -> None:
        self.state, self.error, self._task = state, error, None
        self.state_changed.emit(state)
        waiting, self._waiting = self._waiting, {}
        for action in waiting.values():
            action()

    def when_ready(self, kind: str, action: Callable[[], None]) -> bool:
        """Run ``action`` now if the load ended, else once it has (replacing an earlier action of
        the same ``kind``); True when it ran now."""
        if self.ended:
            action()
            return True
        self._waiting[kind] = action
        self.start()
        return False

    def forget(self, kind: str) -> None:
        """Drop the waiting action of ``kind`` (its case was closed)."""
        self._waiting.pop(kind, None)
