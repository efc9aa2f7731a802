# SPDX-License-Identifier: Apache-2.0
"""The query side: its settings, and the query image read, hashed and embedded once.

A query image is embedded once whatever is searched (one case, or every case of a library): its
views (upright and, by default, its quarter turns, so photos whose orientation was lost are still
found) and the scene probabilities that choose which per-scene indexes to visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgsim_desktop.core.errors import UnreadableImageError
from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.pdq import MIN_QUALITY, NEAR_COPY_DISTANCE, pdq_dihedral
from imgsim_desktop.core.model.scenes import DEFAULT_COVERAGE, SceneHead, scenes_to_search

#: Quarter turns tried for the query: photos whose orientation was lost are still found.
QUERY_ROTATIONS = (0, 1, 2, 3)


@dataclass(frozen=True)
class QuerySettings:
    """Everything that shapes a query's ranking besides the images (recorded with the result)."""

    k: int = 20
    all_scenes: bool = False
    coverage: float = DEFAULT_COVERAGE
    rotations: bool = True
    #: Leave out the files a known-file hash set holds (see :mod:`.known`).
    hide_known: bool = False
    #: PDQ distance at or under which a result is a near copy (see :mod:`.ranking`).
    near_copy_threshold: int = NEAR_COPY_DISTANCE


@dataclass(frozen=True)
class QueryImage:
    """A query image, embedded.

    Attributes:
        path: the image file as given.
        sha256: SHA-256 of its bytes.
        vectors: one row per view (upright first).
        probabilities: the scene head's probabilities for the upright view.
        scene: the most likely scene (``other`` when unsure) and its probability.
        embedder: the identity key of the embedder that made the vectors.
        pdq: the PDQ hashes of its 8 dihedral variants (empty when its quality is too low).
    """

    path: str
    sha256: str
    vectors: np.ndarray
    probabilities: np.ndarray
    scene: str
    confidence: float
    embedder: str
    pdq: tuple[bytes, ...] = ()

    def scenes(self, head: SceneHead, settings: QuerySettings) -> list[str]:
        """The scene indexes to visit (the upright view decides: a turned view's scene guess is
        unreliable)."""
        if settings.all_scenes:
            return list(head.all_labels)
        chosen = set(scenes_to_search(head, self.probabilities, settings.coverage))
        return [s for s in head.all_labels if s in chosen]


def query_vectors(pixels: np.ndarray, embedder: Embedder, rotations: bool) -> np.ndarray:
    """The query's vectors: upright first, then each further quarter turn when asked."""
    turns = QUERY_ROTATIONS if rotations else (0,)
    return embedder.embed([np.ascontiguousarray(np.rot90(pixels, t)) for t in turns])


def embed_query(
    image_path: Path, embedder: Embedder, head: SceneHead, settings: QuerySettings
) -> QueryImage:
    """Read and embed the query image; raises UnreadableImageError naming it."""
    try:
        loaded = load_for_embedding(image_path, embedder.identity.shorter_side)
    except UnreadableImageError as exc:
        raise UnreadableImageError(f"query image {image_path}: {exc}") from exc
    vectors = query_vectors(loaded.pixels, embedder, settings.rotations)
    probabilities = head.probabilities(vectors[:1])[0]
    scene, confidence = head.label(probabilities)
    hashes, quality = pdq_dihedral(loaded.pixels)
    return QueryImage(
        str(image_path),
        loaded.sha256,
        vectors,
        probabilities,
        scene,
        confidence,
        embedder.identity.key,
        tuple(hashes) if quality >= MIN_QUALITY else (),
    )
