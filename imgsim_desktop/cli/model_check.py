# SPDX-License-Identifier: Apache-2.0
"""The bundled embedder for ``imgsim index``, remembering a model that cannot load.

Indexing records a model failure against each image (a transient failure, tried again on the next
run), which is right for an image the model chokes on but not for a model that cannot load at all
(torch's libraries broken or missing, a damaged weights file): the run would end "0 indexed, 811
failed" with exit status 0. :class:`LoadCheckedEmbedder` builds the network before the first
batch, remembers why it could not, fails every later batch at once, and ``imgsim index`` then
says why in one line (exit status 1).
"""

from __future__ import annotations

import threading

import numpy as np

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.core.model.embedder import (
    Descriptions,
    EfficientNetLiteEmbedder,
    EmbedderIdentity,
    Window,
)


class LoadCheckedEmbedder:
    """:class:`EfficientNetLiteEmbedder` whose load failure is kept in ``load_error``."""

    def __init__(self) -> None:
        self._inner = EfficientNetLiteEmbedder()  # ModelError here when the weights are missing
        self._lock = threading.Lock()
        self._loaded = False
        self.load_error: ModelError | None = None

    @property
    def identity(self) -> EmbedderIdentity:
        return self._inner.identity

    def _load(self) -> None:
        with self._lock:
            if self.load_error is None and not self._loaded:
                try:
                    _ = self._inner.model
                    self._loaded = True
                except Exception as exc:  # torch raises ImportError, OSError, RuntimeError...
                    cause = exc if isinstance(exc, ModelError) else f"{type(exc).__name__}: {exc}"
                    self.load_error = ModelError(f"the model cannot load: {cause}")
            if self.load_error is not None:
                raise self.load_error

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        return self.describe(images).index

    def describe(self, images: list[np.ndarray]) -> Descriptions:
        self._load()
        return self._inner.describe(images)

    def project(self, rerank: np.ndarray) -> np.ndarray:
        return self._inner.project(rerank)

    def describe_windows(self, image: np.ndarray, windows: tuple[Window, ...]) -> Descriptions:
        self._load()
        return self._inner.describe_windows(image, windows)
