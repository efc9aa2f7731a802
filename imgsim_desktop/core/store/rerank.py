# SPDX-License-Identifier: Apache-2.0
"""The re-ranking vectors: each indexed image's long descriptor, stored compactly in the catalogue.

The per-scene indexes hold 256-d vectors so that a million images fit in RAM; the longer vector
the embedder also makes (:class:`~imgsim_desktop.core.model.embedder.Descriptions`) is kept as an
extra of kind :data:`RERANK_KIND` beside the file's row, in float16 (1.5 KB for 768 dimensions,
written in the same transaction as the vector), and read back only for a query's candidates, a
few hundred rows by primary key.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from imgsim_desktop.core.store.catalog import Catalog

RERANK_KIND = "rerank"


def rerank_blob(vector: np.ndarray) -> bytes:
    """The stored form of one re-ranking vector (little-endian float16)."""
    return np.asarray(vector, dtype="<f2").tobytes()


def rerank_vectors(catalog: Catalog, ids: Iterable[int], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids found, (n, dim) float32 vectors) of the files among ``ids`` that have a re-ranking
    vector of ``dim`` dimensions (files indexed by an embedder without one have none)."""
    found = catalog.extras(RERANK_KIND, list(ids))
    rows = [(i, blob) for i, blob in found.items() if len(blob) == 2 * dim]
    if not rows:
        return np.empty(0, np.int64), np.empty((0, dim), np.float32)
    vectors = np.frombuffer(b"".join(blob for _, blob in rows), dtype="<f2").reshape(-1, dim)
    return np.array([i for i, _ in rows], dtype=np.int64), vectors.astype(np.float32)
