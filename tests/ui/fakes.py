# SPDX-License-Identifier: Apache-2.0
"""Test doubles for the window: an embedder without torch that tests can hold at a gate, and
small generated cases.

The embedder makes 256-d vectors and layout vectors of the size the bundled scene head reads, so
the window runs with the real scene head and no other change; a ``hold`` policy lets a test stop a batch inside ``embed``
(the indexer is then "slow" for exactly as long as the test wants).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QModelIndex

from imgsim_desktop.core.model.embedder import Descriptions, EmbedderIdentity
from imgsim_desktop.core.model.layout import LAYOUT_DIM

DIM = 256
#: The functions of a query's embedding: a call made under one of them embeds a query image (its
#: upright view for the preview, then its turns), any other an indexing batch.
QUERY_FUNCTIONS = frozenset({"embed_query", "embed_query_with_preview", "describe_query"})


def is_query_call() -> bool:
    """True when the embedder is called to embed a query (found on the caller's stack)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in QUERY_FUNCTIONS:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class GatedEmbedder:
    """Vectors from an 8x8 colour thumbnail, padded to 256-d. Thread-safe.

    Attributes:
        embedded: images embedded so far.
        threads: names of the threads that called ``embed``.
        hold: ``hold(images)`` returns an Event to wait for before embedding them, or None.
    """

    def __init__(self, hold: Callable[[list[np.ndarray]], threading.Event | None] | None = None):
        self.identity = EmbedderIdentity("fake-gated", "0" * 64, DIM, 64, "thumb")
        self.hold = hold
        self.embedded = 0
        self.threads: list[str] = []
        self._lock = threading.Lock()

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        gate = self.hold(images) if self.hold else None
        if gate is not None:
            assert gate.wait(60), "a test never opened its gate"
        with self._lock:
            self.embedded += len(images)
            self.threads.append(threading.current_thread().name)
        out = np.zeros((len(images), DIM), dtype=np.float32)
        for row, pixels in enumerate(images):
            small = np.asarray(
                Image.fromarray(pixels).resize((8, 8), Image.Resampling.BOX), dtype=np.float32
            )
            vector = small.reshape(-1) - 127.5
            out[row, : vector.size] = vector / (np.linalg.norm(vector) or 1.0)
        return out

    def describe(self, images: list[np.ndarray]) -> Descriptions:
        """The vectors, and as the layout the bundled scene head reads, the vector repeated
        (the head's verdict on it is arbitrary but fixed)."""
        vectors = self.embed(images)
        layout = np.tile(vectors, LAYOUT_DIM // DIM) / np.sqrt(LAYOUT_DIM // DIM)
        return Descriptions(vectors, None, layout.astype(np.float32))

    def project(self, rerank: np.ndarray) -> np.ndarray:
        raise AssertionError("a fake embedder makes no re-ranking vectors")


class BatchGate:
    """A ``hold`` policy: indexing batches after the first ``free`` ones wait for ``opened``;
    a query's calls pass, unless ``queries`` is set, then they wait for it too."""

    def __init__(self, free: int = 1, queries: threading.Event | None = None) -> None:
        self.free = free
        self.opened = threading.Event()
        self.queries = queries
        self.held = threading.Event()  # set once a batch waits at the gate
        self._batches = 0
        self._lock = threading.Lock()

    def release_all(self) -> None:
        """Open every gate (a test's teardown: nothing may stay blocked)."""
        self.opened.set()
        if self.queries is not None:
            self.queries.set()

    def __call__(self, images: list[np.ndarray]) -> threading.Event | None:
        if is_query_call():
            return self.queries
        with self._lock:
            self._batches += 1
            if self._batches <= self.free:
                return None
        self.held.set()
        return self.opened


def make_case(folder: Path, n: int, prefix: str = "img", hue: int = 0) -> Path:
    """``n`` small distinct PNG images in ``folder`` (made quickly, never the public images)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n + hue)
    for i in range(n):
        base = np.array([(hue + 40 * i) % 256, (90 * i) % 256, (150 + 17 * i) % 256], np.uint8)
        pixels = np.clip(base + rng.integers(0, 60, (40, 48, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{prefix}{i:03d}.png")
    return folder


def failure_lines(window) -> list[str]:
    """Every line of the window's failure list (fetched in full, as if scrolled to the end)."""
    model = window.index_panel.failure_model
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    return [model.index(row).data() for row in range(model.rowCount())]
