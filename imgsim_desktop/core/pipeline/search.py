# SPDX-License-Identifier: Apache-2.0
"""Searching one case or many: the embedded query against each source's indexes, one ranking.

A source is a case's catalogue and its per-scene indexes: a case of this user's app data, or an
archived one in a library. The query is embedded once (:mod:`.query`); every source is searched
with the same vectors and scenes, and the hits of all sources are merged by score, so that the
ranking over two cases is the ranking of one case holding both. Only the vectors the query's
embedder made are searched; a source still being re-embedded says how many are pending. The
sources, the candidates and their check by pixels are :mod:`.candidates`; results of one query
searched apart (on cluster workers) are made one by :mod:`.cases.merging`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.pdq import HashMatrix
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.candidates import Candidate, SearchSource, verify_by_pixels
from imgsim_desktop.core.pipeline.query import QueryImage, QuerySettings, embed_query
from imgsim_desktop.core.pipeline.ranking import closest, fused_score, similarities
from imgsim_desktop.core.pipeline.results import QueryResult, ResultRecord
from imgsim_desktop.core.store.index import Hit
from imgsim_desktop.core.store.known.hashsets import KnownFiles
from imgsim_desktop.core.store.rerank import rerank_vectors

#: How much further a search goes each time known files took places in its results.
KNOWN_GROWTH = 4
#: Nearest neighbours of the index vectors re-scored with the re-ranking vectors (README, Quality).
RERANK_CANDIDATES = 100

__all__ = ["QueryResult", "QuerySettings", "ResultRecord", "SearchSource", "run_query", "search"]


def _records(found: list[Candidate], known: KnownFiles, threshold: int) -> list[ResultRecord]:
    """Result records for the hits, in order, each marked with the hash sets that know it."""
    by_source: dict[int, list[Candidate]] = {}
    for item in found:
        by_source.setdefault(id(item.source), []).append(item)
    records = {}
    for items in by_source.values():
        source = items[0].source
        rows = source.catalog.records(i.id for i in items)
        for item in items:
            records[(id(source), item.id)] = rows.get(item.id)
    present = [(item, r) for item in found if (r := records.get((id(item.source), item.id)))]
    # (a record missing was removed from the catalogue after the index was loaded)
    names = known.match_many([(r.md5, r.sha1, r.sha256) for _, r in present]) if known.sets else []
    results: list[ResultRecord] = []
    for n, (item, record) in enumerate(present):
        results.append(
            ResultRecord(
                rank=len(results) + 1,
                id=item.id,
                path=record.path,
                absolute_path=os.fsdecode(
                    os.path.join(os.fsencode(item.source.root), record.relpath)
                ),
                score=item.score,
                scene=record.scene or "",
                sha256=record.sha256,
                size=record.size,
                width=record.width,
                height=record.height,
                case=str(item.source.root) if item.source.case_id is not None else None,
                case_id=item.source.case_id,
                known=names[n] if names else None,
                md5=record.md5,
                sha1=record.sha1,
                similarity=item.similarity,
                pdq_distance=item.distance,
                near_copy=item.distance is not None and item.distance <= threshold,
                copy_correlation=item.correlation,
            )
        )
    return results


def _candidates(
    query: QueryImage, source: SearchSource, hits: list[Hit], settings: QuerySettings, dim: int
) -> list[Candidate]:
    """The deep vectors' hits and the PDQ scan's closest matches of one source, scored: the
    similarity is the re-ranking vectors' when the query and the file have them (exact, best
    view), else the index vectors'."""
    similarity = {hit.id: hit.score for hit in hits}
    distance = _pdq_distances(query, source, similarity)
    wanted = set(similarity) | set(distance)
    if query.rerank is not None and wanted:
        ids, vectors = rerank_vectors(source.catalog, wanted, query.rerank.shape[1])
        for file_id, value in zip(ids, similarities(query.rerank, vectors), strict=True):
            similarity[int(file_id)] = float(value)
    # PDQ's matches without a re-ranking vector: their index vectors, read only for them.
    missing = np.array([i for i in distance if i not in similarity], dtype=np.int64)
    if len(missing):
        vectors = source.catalog.vectors(missing, dim)
        for file_id, value in zip(missing, similarities(query.vectors, vectors), strict=True):
            similarity[int(file_id)] = float(value)
    threshold = settings.near_copy_threshold
    found = [
        Candidate(
            file_id,
            source,
            fused_score(value, distance.get(file_id), threshold),
            value,
            distance.get(file_id),
        )
        for file_id, value in similarity.items()
    ]
    return found


def _pdq_distances(
    query: QueryImage, source: SearchSource, similarity: dict[int, float]
) -> dict[int, int]:
    """PDQ distances of the source's closest hashes to the query, and of the vectors' hits."""
    hashes = source.indexes.hashes
    distance: dict[int, int] = {}
    if not query.pdq or not len(hashes.ids):
        return distance
    matrix = hashes.derived.get("matrix")
    if matrix is None:
        matrix = hashes.derived["matrix"] = HashMatrix(hashes.hashes, hashes.quality)
    distances = matrix.distances(list(query.pdq))
    for file_id, d in zip(*closest(distances, hashes.ids), strict=True):
        distance[int(file_id)] = int(d)
    known_ids = np.array(sorted(similarity), dtype=np.int64)
    where = np.searchsorted(hashes.ids, known_ids)
    for file_id, at in zip(known_ids, where, strict=True):
        if at < len(hashes.ids) and hashes.ids[at] == file_id and distances[at] <= 256:
            distance[int(file_id)] = int(distances[at])
    return distance


def _depth(query: QueryImage, k: int) -> int:
    """How many of the indexes' nearest neighbours become candidates: with re-ranking vectors,
    at least :data:`RERANK_CANDIDATES` (the index vectors' order is only approximate)."""
    return max(k, RERANK_CANDIDATES) if query.rerank is not None else k


def _hits(
    query: QueryImage,
    sources: list[SearchSource],
    scenes: list[str],
    head: SceneHead,
    settings: QuerySettings,
    k: int,
) -> tuple[list[Candidate], int, int, int]:
    """The best ``k`` candidates over all sources, and the vectors searched, in total and
    pending."""
    found: list[Candidate] = []
    searched = total = pending = 0
    dim = int(query.vectors.shape[1])
    for source in sources:
        embedder_id = source.catalog.embedder_id(query.embedder)
        with source.indexes.lock:
            # Only the scenes searched are loaded (a case of a million images holds 1.2 GB of
            # indexes); the others when a query needs them.
            counts = source.catalog.scene_counts(embedder_id)
            wanted = [s for s in scenes if s in counts]
            source.indexes.sync_for_query(source.catalog, wanted)
            hits, in_source = source.indexes.search(query.vectors, wanted, _depth(query, k))
            found += _candidates(query, source, hits, settings, dim)
        searched += in_source
        total += sum(counts.values())
        pending += source.catalog.pending(embedder_id)
    if query.picture is not None:
        verify_by_pixels(query.picture, found, settings.near_copy_threshold)
    found.sort(key=lambda f: (-f.score, f.source.case_id or "", f.id))
    return found[:k], searched, total, pending


def search(
    query: QueryImage, sources: list[SearchSource], head: SceneHead, settings: QuerySettings
) -> QueryResult:
    """Search every source with the embedded query; one ranking of the best ``k``. Results are
    marked with the known-file hash sets that hold them; with ``settings.hide_known`` those are
    left out and the search goes further until it has ``k`` others (ranks renumbered)."""
    scenes = query.scenes(head, settings)
    with KnownFiles.open() as known:
        fetch = settings.k
        while True:
            found, searched, total, pending = _hits(query, sources, scenes, head, settings, fetch)
            results = _records(found, known, settings.near_copy_threshold)
            if not settings.hide_known:
                break
            results = [r for r in results if r.known is None]
            if len(results) >= settings.k or len(found) < fetch or fetch >= searched:
                results = [
                    dataclasses.replace(r, rank=n)
                    for n, r in enumerate(results[: settings.k], start=1)
                ]
                break
            fetch = min(fetch * KNOWN_GROWTH, max(searched, settings.k))
        known_sets = [info.name for info in known.sets]
    return QueryResult(
        query_path=query.path,
        query_sha256=query.sha256,
        scene=query.scene,
        scene_confidence=query.confidence,
        scene_probabilities={
            label: round(float(p), 6)
            for label, p in zip(head.labels, query.probabilities, strict=True)
        },
        scenes_searched=scenes,
        settings=settings,
        embedder=query.embedder,
        vectors_searched=searched,
        vectors_total=total,
        results=results,
        vectors_pending=pending,
        known_sets=known_sets,
    )


def run_query(
    image_path: Path,
    source: SearchSource,
    embedder: Embedder,
    head: SceneHead,
    settings: QuerySettings,
) -> QueryResult:
    """Search one case for images like ``image_path``; raises UnreadableImageError."""
    return search(embed_query(image_path, embedder, head, settings), [source], head, settings)
