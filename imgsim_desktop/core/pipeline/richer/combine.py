# SPDX-License-Identifier: Apache-2.0
"""Several query images, one ranking: ``all`` (what they have in common) or ``any`` (the union).

- ``all``: each image searched on its own (every view: turns, scales, windows) a little deeper;
  every candidate of any of them is ranked by diffusion from the images over the graph of the
  images and their candidates (:mod:`.diffusion`): what the images have in common is what both
  reach, directly or through photos like it (plus the best near-copy bonus one of the images
  gave it, so copies still come first). Its ``similarity`` is its mean similarity to the images
  (exact, with the re-ranking vectors: for single-view queries the cosine with the images' mean
  descriptor, up to a factor) and its ``score`` that plus the bonus, as for any query (reports
  explain the score so); the rank follows the diffusion, so scores need not fall down the
  list. Ranking by that mean alone put the other photos of a place 0.08 mAP below the better
  image alone in the richer-queries check; the diffusion ranks them within 0.01 of it.
- ``any``: each image searched on its own, and each candidate keeps its best score over them
  (exact: every image of the merged top ``k`` is in the top ``k`` of the image that gives it its
  best score).
"""

from __future__ import annotations

import dataclasses
from enum import Enum

import numpy as np

from imgsim_desktop.core.pipeline.query import QueryImage
from imgsim_desktop.core.pipeline.ranking import similarities
from imgsim_desktop.core.pipeline.results import QueryResult, ResultRecord
from imgsim_desktop.core.pipeline.richer.diffusion import diffuse, ranking
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.rerank import rerank_vectors


class Combine(str, Enum):
    """How several query images make one ranking."""

    ALL = "all"
    ANY = "any"


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
    return _one_result(parts, merged, k)


def _one_result(parts: list[QueryResult], ranked: list[ResultRecord], k: int) -> QueryResult:
    """The images' results made one: the first's description, the scenes any of them searched,
    the best ``k`` of ``ranked`` renumbered."""
    scenes: list[str] = []
    for part in parts:
        scenes += [s for s in part.scenes_searched if s not in scenes]
    return dataclasses.replace(
        parts[0],
        scenes_searched=scenes,
        vectors_searched=max(p.vectors_searched for p in parts),
        results=[dataclasses.replace(r, rank=n) for n, r in enumerate(ranked[:k], start=1)],
    )


def exact_similarities(query: QueryImage, catalog: Catalog, ids: list[int]) -> dict[int, float]:
    """The similarity of catalogue files to one query as a search scores it: its re-ranking
    vectors' best cosine over the views where the file has one, else the index vectors'."""
    found: dict[int, float] = {}
    if query.rerank is not None and ids:
        have, vectors = rerank_vectors(catalog, ids, int(query.rerank.shape[1]))
        found.update(zip(have.tolist(), similarities(query.rerank, vectors).tolist(), strict=True))
    rest = np.array([i for i in ids if i not in found], dtype=np.int64)
    if len(rest):
        vectors = catalog.vectors(rest, int(query.vectors.shape[1]))
        found.update(zip(rest.tolist(), similarities(query.vectors, vectors).tolist(), strict=True))
    return found


def graph_vectors(
    catalog: Catalog, ids: list[int], queries: list[QueryImage]
) -> tuple[np.ndarray, np.ndarray]:
    """The diffusion graph's vectors, all of one kind: ((q, q) the best cosine between any
    views of each two query images, (n, d) the candidates' unit vectors): re-ranking vectors
    when every query image and every candidate has one, else index vectors for all."""
    rerank = queries[0].rerank
    if rerank is not None and all(q.rerank is not None for q in queries):
        have, vectors = rerank_vectors(catalog, ids, int(rerank.shape[1]))
        if len(have) == len(ids):
            position = {int(i): n for n, i in enumerate(have)}
            views = [q.rerank for q in queries if q.rerank is not None]
            return _cosines(views), _unit(vectors[[position[i] for i in ids]])
    vectors = catalog.vectors(np.array(ids, dtype=np.int64), int(queries[0].vectors.shape[1]))
    return _cosines([q.vectors for q in queries]), _unit(vectors)


def _cosines(views: list[np.ndarray]) -> np.ndarray:
    return np.array([[float((a @ b.T).max()) for b in views] for a in views])


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def merge_all(
    parts: list[QueryResult], queries: list[QueryImage], catalog: Catalog, k: int
) -> QueryResult:
    """One result for "all of" the images from each image's own search (every view, windows
    included): each candidate of any of them ranked by diffusion from the images plus the best
    near-copy bonus any image gave it, and scored by its mean similarity plus that bonus (see
    the module docstring); the best ``k`` kept and renumbered."""
    records: dict[int, ResultRecord] = {}
    bonus: dict[int, float] = {}
    distance: dict[int, int] = {}  # the closest PDQ distance any image gave each candidate
    near_copy: set[int] = set()  # candidates any image found a near copy
    for part in parts:
        for record in part.results:
            extra = record.score - record.similarity
            if record.id not in records or extra > bonus[record.id]:
                records[record.id], bonus[record.id] = record, extra
            if record.pdq_distance is not None:
                distance[record.id] = min(
                    distance.get(record.id, record.pdq_distance), record.pdq_distance
                )
            if record.near_copy:
                near_copy.add(record.id)
    ids = sorted(records)
    per_image = []
    for part, query in zip(parts, queries, strict=True):
        known = {r.id: r.similarity for r in part.results}
        missing = [i for i in ids if i not in known]
        per_image.append({**known, **exact_similarities(query, catalog, missing)})
    similarity = np.array([[sims.get(i, 0.0) for i in ids] for sims in per_image])
    query_query, candidates = graph_vectors(catalog, ids, queries)
    relevance = diffuse(query_query, similarity, candidates)
    mean = similarity.mean(axis=0)
    key = ranking(relevance, mean)
    order = {file_id: float(key[n]) + bonus[file_id] for n, file_id in enumerate(ids)}
    scored = []
    for n, file_id in enumerate(ids):
        scored.append(
            dataclasses.replace(
                records[file_id],
                score=float(mean[n]) + bonus[file_id],
                similarity=float(mean[n]),
                pdq_distance=distance.get(file_id),
                near_copy=file_id in near_copy,
            )
        )
    # Candidates diffusion does not reach (relevance 0) follow in order of mean similarity.
    scored.sort(key=lambda r: (-order[r.id], -r.similarity, r.id))
    return _one_result(parts, scored, k)
