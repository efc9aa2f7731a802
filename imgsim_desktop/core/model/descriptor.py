# SPDX-License-Identifier: Apache-2.0
"""The stored descriptor: GeM vectors projected by a learned PCA to :data:`INDEX_DIM` dimensions.

1280-d float32 vectors would take 5.1 GB of RAM in the indexes for a million images; projected to
256 dimensions (with partial whitening: each component divided by its eigenvalue to the power
``alpha``) and L2-normalised again they take a fifth of that, and retrieval keeps its quality (see
README, Quality). The projection is learned once by ``tools/train_descriptor.py`` from the 15-Scene
training images and ukbench_mini (never from the evaluation sets) and shipped in
``imgsim_desktop/resources/descriptor_pca.npz``; its short hash is part of the embedder identity,
so a case indexed with another projection (or none) is re-embedded and its indexes rebuilt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from imgsim_desktop.core.errors import ModelError

RESOURCE = "descriptor_pca.npz"
#: Dimension of the vectors stored in the catalogue and the indexes.
INDEX_DIM = 256


@dataclass(frozen=True)
class Projection:
    """A linear projection ``(x - mean) @ matrix`` followed by L2 normalisation.

    Attributes:
        mean: (input_dim,) float32 subtracted first.
        matrix: (input_dim, dim) float32: principal axes already scaled by the whitening.
        alpha: whitening power (0 = plain PCA, 0.5 = full whitening).
        key: short SHA-256 of mean and matrix, recorded in the embedder identity.
    """

    mean: np.ndarray
    matrix: np.ndarray
    alpha: float
    key: str

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def name(self) -> str:
        return f"pca{self.dim}w{self.alpha:g}-{self.key[:8]}"

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """(n, input_dim) vectors -> (n, dim) float32, L2-normalised."""
        out = (np.asarray(vectors, dtype=np.float32) - self.mean) @ self.matrix
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)


def fit_projection(vectors: np.ndarray, dim: int, alpha: float) -> tuple[Projection, np.ndarray]:
    """PCA of ``vectors`` (deterministic: axes ordered by eigenvalue, sign fixed so each axis'
    largest coefficient is positive); returns the projection and all eigenvalues."""
    data = np.asarray(vectors, dtype=np.float64)
    mean = data.mean(axis=0)
    eigenvalues, axes = np.linalg.eigh(np.cov((data - mean).T))
    order = np.argsort(-eigenvalues, kind="stable")
    eigenvalues, axes = np.maximum(eigenvalues[order], 1e-12), axes[:, order]
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    axes = axes * signs
    matrix = axes[:, :dim] / eigenvalues[:dim] ** alpha
    return make_projection(mean, matrix, alpha), eigenvalues


def make_projection(mean: np.ndarray, matrix: np.ndarray, alpha: float) -> Projection:
    mean32 = np.ascontiguousarray(mean, dtype=np.float32)
    matrix32 = np.ascontiguousarray(matrix, dtype=np.float32)
    digest = hashlib.sha256(mean32.tobytes() + matrix32.tobytes()).hexdigest()[:16]
    return Projection(mean32, matrix32, float(alpha), digest)


def save_projection(projection: Projection, path: Path) -> None:
    np.savez(
        path,
        mean=projection.mean,
        matrix=projection.matrix,
        alpha=np.asarray(projection.alpha, dtype=np.float32),
    )


def load_projection(path: Path) -> Projection:
    try:
        with np.load(path, allow_pickle=False) as data:
            return make_projection(data["mean"], data["matrix"], float(data["alpha"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"descriptor projection {path} is unreadable: {exc}") from exc


@cache
def bundled_projection() -> Projection:
    """The projection shipped with the package."""
    path = Path(str(resources.files("imgsim_desktop.resources") / RESOURCE))
    if not path.is_file():
        raise ModelError(f"the descriptor projection {RESOURCE} is missing from the package")
    projection = load_projection(path)
    if projection.dim != INDEX_DIM:
        raise ModelError(f"{RESOURCE} projects to {projection.dim} dimensions, not {INDEX_DIM}")
    return projection
