# SPDX-License-Identifier: Apache-2.0
"""The stored descriptors: regional vectors under a learned whitening, and their 256-d projection.

For each image the backbone's feature map is pooled over R-MAC regions (:mod:`.regions`); each
region's vector goes through a *learned whitening* (Radenović, Tolias and Chum, "Fine-tuning CNN
image retrieval with no human annotation", TPAMI 2018: the inverse square root of the covariance
of differences between matching pairs, then the principal axes of the whitened data), the whitened
regions are summed and L2-normalised. That :data:`RERANK_DIM`-d vector is stored compactly
(float16) and re-ranks a query's candidates exactly. Its projection to :data:`INDEX_DIM`
dimensions (PCA with partial whitening, L2-normalised again) is what the per-scene HNSW indexes
hold: a million 1280-d vectors would take 5 GB of RAM.

Both projections are learned once by ``tools/train_descriptor.py`` from the 15-Scene training
images, ukbench_mini and seeded augmentations of them (never from the evaluation sets) and shipped
in ``imgsim_desktop/resources/`` (:data:`RESOURCE`); their short hash is part of the embedder
identity, so a case indexed with another descriptor is re-embedded (atomically) and its indexes
rebuilt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from imgsim_desktop.core.errors import ModelError

RESOURCE = "descriptor_rmac.npz"
#: Dimension of the vectors stored in the catalogue and the indexes.
INDEX_DIM = 256
#: Dimension of the stored re-ranking vectors.
RERANK_DIM = 768
#: R-MAC scales pooled (see :mod:`.regions`).
LEVELS = 3


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
    eigenvalues, axes = _ordered_eigh(np.cov((data - mean).T))
    matrix = axes[:, :dim] / eigenvalues[:dim] ** alpha
    return make_projection(mean, matrix, alpha), eigenvalues


def fit_whitening(
    vectors: np.ndarray, first: np.ndarray, second: np.ndarray, dim: int, shrink: float
) -> Projection:
    """Learned whitening: ``vectors`` (n, d) give the mean and the rotation, the matching pairs
    ``first[i]``/``second[i]`` the covariance of differences ``Cs`` (shrunk towards its mean
    eigenvalue by ``shrink``); the projection whitens by ``Cs^-1/2`` and keeps the ``dim``
    principal axes of the whitened data. Deterministic (axes ordered and signed)."""
    data = np.asarray(vectors, dtype=np.float64)
    diff = np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64)
    mean = data.mean(axis=0)
    cs = diff.T @ diff / len(diff)
    cs += shrink * np.trace(cs) / len(cs) * np.eye(len(cs))
    values, axes = _ordered_eigh(cs)
    inverse_root = axes @ np.diag(values**-0.5) @ axes.T
    _, rotation = _ordered_eigh(np.cov(((data - mean) @ inverse_root).T))
    return make_projection(mean, inverse_root @ rotation[:, :dim], 0.0)


def _ordered_eigh(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues descending and axes signed so each axis' largest coefficient is positive."""
    values, axes = np.linalg.eigh(matrix)
    order = np.argsort(-values, kind="stable")
    values, axes = np.maximum(values[order], 1e-12), axes[:, order]
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    return values, axes * signs


def make_projection(mean: np.ndarray, matrix: np.ndarray, alpha: float) -> Projection:
    mean32 = np.ascontiguousarray(mean, dtype=np.float32)
    matrix32 = np.ascontiguousarray(matrix, dtype=np.float32)
    digest = hashlib.sha256(mean32.tobytes() + matrix32.tobytes()).hexdigest()[:16]
    return Projection(mean32, matrix32, float(alpha), digest)


@dataclass(frozen=True)
class Descriptor:
    """The learned parts of the descriptor.

    Attributes:
        whitening: (1280 -> :data:`RERANK_DIM`) the learned whitening applied to every region.
        projection: (:data:`RERANK_DIM` -> :data:`INDEX_DIM`) the index projection.
        levels: R-MAC scales pooled.
    """

    whitening: Projection
    projection: Projection
    levels: int

    @property
    def name(self) -> str:
        """Recorded in the embedder identity: changes whenever a learned number changes."""
        digest = hashlib.sha256(
            f"{self.whitening.key}{self.projection.key}{self.levels}".encode()
        ).hexdigest()
        return f"rmac{self.levels}-lw{self.whitening.dim}-pca{self.projection.dim}-{digest[:8]}"


def save_descriptor(descriptor: Descriptor, path: Path) -> None:
    np.savez(
        path,
        whitening_mean=descriptor.whitening.mean,
        whitening_matrix=descriptor.whitening.matrix,
        projection_mean=descriptor.projection.mean,
        projection_matrix=descriptor.projection.matrix,
        projection_alpha=np.asarray(descriptor.projection.alpha, dtype=np.float32),
        levels=np.asarray(descriptor.levels, dtype=np.int64),
    )


def load_descriptor(path: Path) -> Descriptor:
    try:
        with np.load(path, allow_pickle=False) as data:
            return Descriptor(
                make_projection(data["whitening_mean"], data["whitening_matrix"], 0.0),
                make_projection(
                    data["projection_mean"],
                    data["projection_matrix"],
                    float(data["projection_alpha"]),
                ),
                int(data["levels"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"descriptor {path} is unreadable: {exc}") from exc


@cache
def bundled_descriptor() -> Descriptor:
    """The descriptor shipped with the package."""
    path = Path(str(resources.files("imgsim_desktop.resources") / RESOURCE))
    if not path.is_file():
        raise ModelError(f"the descriptor {RESOURCE} is missing from the package")
    descriptor = load_descriptor(path)
    if descriptor.projection.dim != INDEX_DIM:
        raise ModelError(
            f"{RESOURCE} projects to {descriptor.projection.dim} dimensions, not {INDEX_DIM}"
        )
    return descriptor
