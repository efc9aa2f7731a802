# SPDX-License-Identifier: Apache-2.0
"""What a search scores: the cases it searches (:class:`SearchSource`), their candidates
(:class:`Candidate`), and the verification of the best candidates by pixels, the same whether
they were searched in one process (:mod:`.search`) or apart and merged
(:mod:`.cases.merging`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgsim_desktop.core.model.copycheck import THUMB_KIND, best_correlations, read_thumbnail
from imgsim_desktop.core.pipeline.ranking import VERIFIED_CANDIDATES, fused_score
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.index import SceneIndexes


@dataclass
class SearchSource:
    """One searchable case.

    Attributes:
        root: the case folder as indexed (result paths are made absolute against it).
        catalog: its catalogue.
        indexes: its per-scene indexes (synced with the catalogue before a search).
        case_id: the case's id; set for a search over several cases (results then name it).
    """

    root: Path
    catalog: Catalog
    indexes: SceneIndexes
    case_id: str | None = None


@dataclass
class Candidate:
    """A candidate of one source, scored (see :mod:`.ranking`)."""

    id: int
    source: SearchSource
    score: float
    similarity: float
    distance: int | None
    correlation: float | None = None


def verify_by_pixels(picture: np.ndarray, found: list[Candidate], threshold: int) -> None:
    """Correlate the best candidates of all sources that are not near copies already with the
    query's pixels (:mod:`~imgsim_desktop.core.model.copycheck`) and score them again: the
    same :data:`VERIFIED_CANDIDATES` whether the files are in one case or spread over many."""
    unsure = [f for f in found if f.distance is None or f.distance > threshold]
    unsure.sort(key=lambda f: (-f.score, f.source.case_id or "", f.id))
    chosen = unsure[:VERIFIED_CANDIDATES]
    by_source: dict[int, list[Candidate]] = {}
    for item in chosen:
        by_source.setdefault(id(item.source), []).append(item)
    blobs: dict[tuple[int, int], bytes] = {}
    for items in by_source.values():
        got = items[0].source.catalog.extras(THUMB_KIND, [f.id for f in items])
        blobs.update({(id(items[0].source), i): b for i, b in got.items()})
    thumbs = [(f, read_thumbnail(blobs.get((id(f.source), f.id), b""))) for f in chosen]
    usable = [(f, t) for f, t in thumbs if t is not None]
    correlations = best_correlations(picture, [t for _, t in usable])
    for (item, _), value in zip(usable, correlations, strict=True):
        item.correlation = float(value)
        item.score = fused_score(item.similarity, item.distance, threshold, item.correlation)
