# SPDX-License-Identifier: Apache-2.0
"""Scene classification: a linear head over the embedder's layout (or index) vectors.

The head (weights in ``imgsim_desktop/resources/scene_head.npz``) is trained by
``tools/train_scene_head.py`` on the 15-Scene training images. The bundled head reads the
picture's layout (:mod:`.layout`, from the same forward pass as the descriptor), which is not
stored: its key is part of the embedder's identity, so a new head re-embeds every case (atomically,
as a new descriptor does). A head on the index vectors (``input`` "index", e.g. a test's) can be
applied again to the stored vectors, and is, when it changes. An image whose most likely scene has
a probability below the head's threshold is labelled ``other``. Queries use
:func:`scenes_to_search` to pick which per-scene indexes to visit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from imgsim_desktop.core.errors import ModelError

OTHER = "other"
HEAD_RESOURCE = "scene_head.npz"
#: What a head reads (:attr:`SceneHead.input`).
INDEX_INPUT = "index"
LAYOUT_INPUT = "layout"
#: Default share of the query's scene probability that the searched scenes must cover.
DEFAULT_COVERAGE = 0.9


@dataclass(frozen=True)
class SceneHead:
    """A softmax-regression head.

    Attributes:
        labels: the scene names, in the order of the head's outputs.
        weights: (n_scenes, dim) float32.
        bias: (n_scenes,) float32.
        other_threshold: below this top probability an image is labelled ``other``.
        embedder_key: identity key of the embedder whose vectors the head was trained on.
        test_accuracy: accuracy on the 15-Scene test split, measured when it was trained.
        input: what the head reads: :data:`LAYOUT_INPUT` (the embedder's layout vectors) or
            :data:`INDEX_INPUT` (the index vectors).
    """

    labels: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray
    other_threshold: float
    embedder_key: str
    test_accuracy: float
    input: str = INDEX_INPUT

    @property
    def key(self) -> str:
        """A short hash of everything that decides the head's labels."""
        digest = hashlib.sha256()
        digest.update("\0".join(self.labels).encode())
        digest.update(np.ascontiguousarray(self.weights, dtype=np.float32).tobytes())
        digest.update(np.ascontiguousarray(self.bias, dtype=np.float32).tobytes())
        digest.update(f"{self.other_threshold:.6f}".encode())
        if self.input != INDEX_INPUT:
            digest.update(self.input.encode())
        return digest.hexdigest()[:16]

    @property
    def reads_stored_vectors(self) -> bool:
        """True when the head reads the index vectors (so stored vectors can be labelled again)."""
        return self.input == INDEX_INPUT

    def scene_input(self, index: np.ndarray, layout: np.ndarray | None) -> np.ndarray:
        """What :meth:`probabilities` takes for images described as ``index`` and ``layout``;
        raises ModelError when the head reads a layout the embedder does not give."""
        if self.input == INDEX_INPUT:
            return index
        if layout is None:
            raise ModelError(
                f"the scene head reads the pictures' {self.input} vectors, which this embedder "
                "does not give"
            )
        return layout

    @property
    def all_labels(self) -> tuple[str, ...]:
        """Every scene an image can be filed under, ``other`` last."""
        return (*self.labels, OTHER)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Softmax probabilities (n, n_scenes) for (n, dim) vectors."""
        if vectors.shape[-1] != self.weights.shape[1]:
            raise ModelError(
                f"the scene head takes {self.weights.shape[1]}-d vectors, the embedder gives "
                f"{vectors.shape[-1]}-d: retrain it (tools/train_scene_head.py)"
            )
        logits = vectors @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)

    def label(self, probs: np.ndarray) -> tuple[str, float]:
        """(scene, confidence) for one probability row; ``other`` when unsure."""
        best = int(np.argmax(probs))
        confidence = float(probs[best])
        return (self.labels[best] if confidence >= self.other_threshold else OTHER), confidence

    def save(self, path: Path) -> None:
        np.savez(
            path,
            labels=np.array(self.labels),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            other_threshold=np.float32(self.other_threshold),
            embedder_key=np.array(self.embedder_key),
            test_accuracy=np.float32(self.test_accuracy),
            input=np.array(self.input),
        )


def load_head(path: Path) -> SceneHead:
    """Read a head saved by :meth:`SceneHead.save`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return SceneHead(
                labels=tuple(str(x) for x in data["labels"]),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                other_threshold=float(data["other_threshold"]),
                embedder_key=str(data["embedder_key"]),
                test_accuracy=float(data["test_accuracy"]),
                input=str(data["input"]) if "input" in data.files else INDEX_INPUT,
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"scene head {path} is unreadable: {exc}") from exc


@cache
def bundled_head() -> SceneHead:
    """The scene head shipped with the package."""
    path = Path(str(resources.files("imgsim_desktop.resources") / HEAD_RESOURCE))
    if not path.is_file():
        raise ModelError(f"the scene head {HEAD_RESOURCE} is missing from the package")
    return load_head(path)


def scenes_tag() -> str:
    """The bundled head's part of the embedder's identity: the images' scenes (hence which
    index holds each vector) are the head's."""
    return f"scenes-{bundled_head().key[:8]}"


def scenes_to_search(
    head: SceneHead, probs: np.ndarray, coverage: float = DEFAULT_COVERAGE
) -> list[str]:
    """The query's most likely scenes until their probabilities reach ``coverage``, then ``other``.

    Images the head was unsure about are filed under ``other``, so that index is always searched.
    """
    chosen: list[str] = []
    total = 0.0
    for i in np.argsort(-probs, kind="stable"):
        chosen.append(head.labels[int(i)])
        total += float(probs[int(i)])
        if total >= coverage:
            break
    return [*chosen, OTHER]
