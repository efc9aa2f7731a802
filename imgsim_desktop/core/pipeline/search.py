# SPDX-License-Identifier: Apache-2.0
"""Query by image: embed the query (and its rotations), pick scenes, search, rank.

A query is described completely by its :class:`QueryResult`: the query file's hash, its scene
probabilities, the scenes searched, the settings used and the embedder identity, so that a result
can be reproduced and reported.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from imgsim_desktop.core.errors import UnreadableImageError
from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import DEFAULT_COVERAGE, SceneHead, scenes_to_search
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.index import SceneIndexes

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


@dataclass(frozen=True)
class ResultRecord:
    """One ranked match."""

    rank: int
    id: int
    path: str
    absolute_path: str
    score: float
    scene: str
    sha256: str | None
    size: int
    width: int | None
    height: int | None
    #: The known-file hash sets holding this file (names joined by ", "), or None.
    known: str | None = None


@dataclass
class QueryResult:
    """A query, what was searched, and the ranked matches."""

    query_path: str
    query_sha256: str
    scene: str
    scene_confidence: float
    scene_probabilities: dict[str, float]
    scenes_searched: list[str]
    settings: QuerySettings
    embedder: str
    vectors_searched: int
    vectors_total: int
    results: list[ResultRecord] = field(default_factory=list)
    #: Indexed images whose vector another embedder made (a re-embed not finished): not searched.
    vectors_pending: int = 0
    #: The known-file hash sets the results were checked against.
    known_sets: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "query": {
                "path": os.fsencode(self.query_path).decode("utf-8", "backslashreplace"),
                "sha256": self.query_sha256,
                "scene": self.scene,
                "scene_confidence": round(self.scene_confidence, 4),
                "scenes_searched": self.scenes_searched,
                "settings": asdict(self.settings),
                "embedder": self.embedder,
                "vectors_searched": self.vectors_searched,
                "vectors_total": self.vectors_total,
                "vectors_pending": self.vectors_pending,
                "hash_sets": self.known_sets,
            },
            "results": [
                {
                    "rank": r.rank,
                    "path": r.path,
                    "score": round(r.score, 6),
                    "scene": r.scene,
                    "sha256": r.sha256,
                    "known": r.known,
                }
                for r in self.results
            ],
        }

    def audit_fields(self) -> dict:
        """The fields of the audit log's ``query`` event: enough to reproduce and check it."""
        return {
            "query_path": self.query_path,
            "query_sha256": self.query_sha256,
            "k": self.settings.k,
            "settings": asdict(self.settings),
            "scene": self.scene,
            "scenes_searched": self.scenes_searched,
            "embedder": self.embedder,
            "vectors_searched": self.vectors_searched,
            "vectors_total": self.vectors_total,
            "vectors_pending": self.vectors_pending,
            "hash_sets": self.known_sets,
            "results": [
                {"rank": r.rank, "path": r.path, "sha256": r.sha256, "score": round(r.score, 6)}
                for r in self.results
            ],
        }


def query_vectors(pixels: np.ndarray, embedder: Embedder, rotations: bool) -> np.ndarray:
    """The query's vectors: upright first, then each further quarter turn when asked."""
    turns = QUERY_ROTATIONS if rotations else (0,)
    return embedder.embed([np.ascontiguousarray(np.rot90(pixels, t)) for t in turns])


def run_query(
    image_path: Path,
    case_root: Path,
    catalog: Catalog,
    embedder: Embedder,
    head: SceneHead,
    indexes: SceneIndexes,
    settings: QuerySettings,
) -> QueryResult:
    """Search the case for images like ``image_path``; raises UnreadableImageError."""
    try:
        loaded = load_for_embedding(image_path, embedder.identity.shorter_side)
    except UnreadableImageError as exc:
        raise UnreadableImageError(f"query image {image_path}: {exc}") from exc
    vectors = query_vectors(loaded.pixels, embedder, settings.rotations)
    probs = head.probabilities(vectors)
    scene, confidence = head.label(probs[0])
    embedder_id = catalog.embedder_id(embedder.identity.key)
    counts = catalog.scene_counts(embedder_id)
    if settings.all_scenes:
        scenes = list(head.all_labels)
    else:  # the upright view decides: a rotated view's scene guess is unreliable
        chosen = set(scenes_to_search(head, probs[0], settings.coverage))
        scenes = [s for s in head.all_labels if s in chosen]
    hits, searched = indexes.search(vectors, [s for s in scenes if s in counts], settings.k)
    records = catalog.records(h.id for h in hits)
    results = []
    for hit in hits:
        record = records.get(hit.id)
        if record is None:  # removed from the catalogue after the index was loaded
            continue
        results.append(
            ResultRecord(
                rank=len(results) + 1,
                id=hit.id,
                path=record.path,
                absolute_path=os.fsdecode(os.path.join(os.fsencode(case_root), record.relpath)),
                score=hit.score,
                scene=record.scene or "",
                sha256=record.sha256,
                size=record.size,
                width=record.width,
                height=record.height,
            )
        )
    return QueryResult(
        query_path=str(image_path),
        query_sha256=loaded.sha256,
        scene=scene,
        scene_confidence=confidence,
        scene_probabilities={
            label: round(float(p), 6) for label, p in zip(head.labels, probs[0], strict=True)
        },
        scenes_searched=scenes,
        settings=settings,
        embedder=embedder.identity.key,
        vectors_searched=searched,
        vectors_total=sum(counts.values()),
        results=results,
        vectors_pending=catalog.pending(embedder_id),
    )
