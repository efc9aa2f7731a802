# SPDX-License-Identifier: Apache-2.0
"""The model as the window uses it: one embedder for every case, built on first use, and a load
failure turned into one :class:`~imgsim_desktop.core.errors.ModelError` naming the cause.

Without it, a model that cannot load (torch missing, a broken library, a damaged weights file)
would be retried on every batch and recorded against every image as a per-file failure; here the
first failure is remembered, every later use fails at once with the same message, and the window
shows it in one message box. Queries and reviews of what is already indexed go on working.

:func:`load_model` is what the window runs on a worker thread once it is on screen: torch's
libraries (without stalling the GUI thread, see ``preload_libraries``), then the network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.core.model.embedder import (
    Descriptions,
    EfficientNetLiteEmbedder,
    Embedder,
    EmbedderIdentity,
    Window,
    preload_libraries,
)

#: What a model or library that cannot load raises (ModelError is the core's own word for it).
LOAD_ERRORS = (ModelError, ImportError, OSError)


def load_problem(exc: BaseException) -> ModelError:
    """``exc`` as one ModelError whose message names the cause."""
    if isinstance(exc, ModelError):
        return exc
    return ModelError(f"the model's libraries cannot load ({type(exc).__name__}: {exc})")


def check_libraries() -> ModelError | None:
    """Import torch now (see ``preload_libraries``); the problem, or None when fine."""
    try:
        preload_libraries()
    except Exception as exc:  # any failure to import a native library is reported, not raised
        return load_problem(exc)
    return None


class GuardedEmbedder:
    """An :class:`Embedder` that remembers why the model could not load.

    Attributes:
        load_error: the ModelError of the first failed load (None while none failed).
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        make: Callable[[], Embedder] = EfficientNetLiteEmbedder,
    ) -> None:
        """``embedder`` if given (tests), else ``make()`` on first use."""
        self._inner = embedder
        self._make = make
        self._lock = threading.Lock()
        self.load_error: ModelError | None = None

    def _embedder(self) -> Embedder:
        with self._lock:
            if self.load_error is not None:
                raise self.load_error
            if self._inner is None:
                try:
                    self._inner = self._make()
                except LOAD_ERRORS as exc:
                    self.load_error = load_problem(exc)
                    raise self.load_error from exc
            return self._inner

    def load(self) -> None:
        """Make the embedder and build its network now (the bundled one builds it on first use
        of ``model``); a failure is remembered as for :meth:`embed`. Raises ModelError."""
        inner = self._embedder()
        try:
            getattr(inner, "model", None)
        except LOAD_ERRORS as exc:
            with self._lock:
                self.load_error = self.load_error or load_problem(exc)
            raise self.load_error from exc

    @property
    def identity(self) -> EmbedderIdentity:
        return self._embedder().identity

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        return self.describe(images).index

    def describe(self, images: list[np.ndarray]) -> Descriptions:
        inner = self._embedder()
        try:
            return inner.describe(images)
        except LOAD_ERRORS as exc:
            with self._lock:
                self.load_error = self.load_error or load_problem(exc)
            raise self.load_error from exc

    def project(self, rerank: np.ndarray) -> np.ndarray:
        return self._embedder().project(rerank)

    def describe_with_objects(
        self, images: list[np.ndarray]
    ) -> tuple[Descriptions, np.ndarray | None]:
        """The inner embedder's descriptions and object label probabilities from one forward
        pass (None for an embedder that cannot label objects)."""
        inner = self._embedder()
        labelled = getattr(inner, "describe_with_objects", None)
        if labelled is None:
            return self.describe(images), None
        try:
            return labelled(images)
        except LOAD_ERRORS as exc:
            with self._lock:
                self.load_error = self.load_error or load_problem(exc)
            raise self.load_error from exc

    def describe_windows(self, image: np.ndarray, windows: tuple[Window, ...]) -> Descriptions:
        return self._embedder().describe_windows(image, windows)


def load_model(embedder: GuardedEmbedder) -> None:
    """torch's libraries, then the network (run on a worker thread). Raises ModelError naming
    the cause when either cannot load."""
    problem = check_libraries()
    if problem is not None:
        raise problem
    embedder.load()
