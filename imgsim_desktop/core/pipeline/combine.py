# SPDX-License-Identifier: Apache-2.0
"""Several query images, one ranking: ``all`` (what they have in common) or ``any`` (the union).

- ``all``: one combined descriptor, the normalised mean of the images' descriptors, view by view
  (upright with upright, each quarter turn with the same one; not the windows, see
  :func:`combine_all`), for the index vectors and the re-ranking vectors alike; its scene probabilities are the
  mean of theirs, and its PDQ hashes are all of theirs (a near copy of any of the photos is still
  found as one). Images that share a place, an object or a scene reinforce it, what only one of
  them shows is diluted.
- ``any``: each image searched on its own, and each candidate keeps its best score over them
  (exact: every image of the merged top ``k`` is in the top ``k`` of the image that gives it its
  best score).
"""

from __future__ import annotations

import dataclasses
from enum import Enum

import numpy as np

from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.query import QUERY_ROTATIONS, QueryImage, QuerySettings
from imgsim_desktop.core.pipeline.results import QueryResult, ResultRecord


class Combine(str, Enum):
    """How several query images make one ranking."""

    ALL = "all"
    ANY = "any"


def whole_views(settings: QuerySettings) -> int:
    """How many of a query's first views are the whole picture turned (and mirrored); the
    windows (crops of the picture, :data:`~.query.WINDOWS`) follow them."""
    return (len(QUERY_ROTATIONS) if settings.rotations else 1) * (2 if settings.flips else 1)


def combine_all(queries: list[QueryImage], head: SceneHead, settings: QuerySettings) -> QueryImage:
    """One query whose descriptor is the normalised mean of ``queries``' descriptors, view by
    view over the whole-picture views; the windows are left out (the same window of two
    different photos shows different things, so their mean would stand for neither)."""
    first = queries[0]
    views = min(whole_views(settings), *(len(q.vectors) for q in queries))
    mean = normalised_mean([q.vectors[:views] for q in queries])
    rerank = None
    if all(q.rerank is not None for q in queries):
        rerank = normalised_mean([q.rerank[:views] for q in queries])  # type: ignore[index]
    probabilities = np.mean([q.probabilities for q in queries], axis=0)
    scene, confidence = head.label(probabilities)
    hashes: list[bytes] = []
    for q in queries:
        hashes += [h for h in q.pdq if h not in hashes]
    return QueryImage(
        path=first.path,
        sha256=first.sha256,
        vectors=mean,
        probabilities=probabilities,
        scene=scene,
        confidence=confidence,
        embedder=first.embedder,
        pdq=tuple(hashes),
        rerank=rerank,
        picture=first.picture,  # copies and crops of the first image are verified by pixels
    )


def normalised_mean(arrays: list[np.ndarray]) -> np.ndarray:
    """The mean of equally shaped (views, dim) arrays, each row L2-normalised again."""
    mean = np.mean(arrays, axis=0)
    return (mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)).astype(
        np.float32
    )


def merge_any(parts: list[QueryResult], k: int) -> QueryResult:
    """One result from the results of each image: each candidate with its best score over them,
    the best ``k`` kept and renumbered; the scenes searched are the union."""
    best: dict[tuple[str, int], ResultRecord] = {}
    for part in parts:
        for record in part.results:
            key = (record.case_id or "", record.id)
            if key not in best or record.score > best[key].score:
                best[key] = record
    merged = sorted(best.values(), key=lambda r: (-r.score, r.case_id or "", r.id))
    scenes: list[str] = []
    for part in parts:
        scenes += [s for s in part.scenes_searched if s not in scenes]
    first = parts[0]
    return dataclasses.replace(
        first,
        scenes_searched=scenes,
        vectors_searched=max(p.vectors_searched for p in parts),
        results=[dataclasses.replace(r, rank=n) for n, r in enumerate(merged[:k], start=1)],
    )
