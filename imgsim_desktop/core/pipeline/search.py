# SPDX-License-Identifier: Apache-2.0
"""Searching one case or many: the embedded query against each source's indexes, one ranking.

A source is a case's catalogue and its per-scene indexes: a case of this user's app data, or an
archived one in a library. The query is embedded once (:mod:`.query`); every source is searched
with the same vectors and scenes, and the hits of all sources are merged by score, so that the
ranking over two cases is the ranking of one case holding both. Only the vectors the query's
embedder made are searched; a source still being re-embedded says how many are pending.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgsim_desktop.core.model.copycheck import THUMB_KIND, best_correlations, read_thumbnail
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.pdq import HashMatrix
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.query import QueryImage, QuerySettings, embed_query
from imgsim_desktop.core.pipeline.ranking import (
    VERIFIED_CANDIDATES,
    closest,
    fused_score,
    similarities,
)
from imgsim_desktop.core.pipeline.results import QueryResult, ResultRecord
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.index import Hit, SceneIndexes
from imgsim_desktop.core.store.known.hashsets import KnownFiles
from imgsim_desktop.core.store.rerank import rerank_vectors

#: How much further a search goes each time known files took places in its results.
KNOWN_GROWTH = 4
#: Nearest neighbours of the index vectors re-scored with the re-ranking vectors (README, Quality).
RERANK_CANDIDATES = 100

__all__ = ["QueryResult", "QuerySettings", "ResultRecord", "SearchSource", "run_query", "search"]


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
class _Found:
    """A candidate of one source, scored (see :mod:`.ranking`)."""

    id: int
    source: SearchSource
    score: float
    similarity: float
    distance: int | None
    correlation: float | None = None


def _records(found: list[_Found], known: KnownFiles, threshold: int) -> list[ResultRecord]:
    """Result records for the hits, in order, each marked with the hash sets that know it."""
    by_source: dict[int, list[_Found]] = {}
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
) -> list[_Found]:
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
        _Found(
            file_id,
            source,
            fused_score(value, distance.get(file_id), threshold),
            value,
            distance.get(file_id),
        )
        for file_id, value in similarity.items()
    ]
    return found


def _verify(picture: np.ndarray, found: list[_Found], threshold: int) -> None:
    """Correlate the best candidates of all sources that are not near copies already with the
    query's pixels (:mod:`~imgsim_desktop.core.model.copycheck`) and score them again: the
    same :data:`VERIFIED_CANDIDATES` whether the files are in one case or spread over many."""
    unsure = [f for f in found if f.distance is None or f.distance > threshold]
    unsure.sort(key=lambda f: (-f.score, f.source.case_id or "", f.id))
    chosen = unsure[:VERIFIED_CANDIDATES]
    by_source: dict[int, list[_Found]] = {}
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
) -> tuple[list[_Found], int, int, int]:
    """The best ``k`` candidates over all sources, and the vectors searched, in total and
    pending."""
    found: list[_Found] = []
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
        _verify(query.picture, found, settings.near_copy_threshold)
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


def verify_merged(
    query: QueryImage, parts: list[QueryResult], sources: list[SearchSource]
) -> list[QueryResult]:
    """The pixel verification of results searched apart without it (on cluster workers, their
    query without its picture), done here over their union as :func:`search` does it over
    several sources: the best candidates not yet near copies, whichever case holds them, read
    from ``sources`` (by case id)."""
    if query.picture is None:
        return parts
    by_case = {s.case_id: s for s in sources}
    found = [
        _Found(r.id, by_case[r.case_id], r.score, r.similarity, r.pdq_distance)
        for part in parts
        for r in part.results
        if r.case_id in by_case
    ]
    _verify(query.picture, found, parts[0].settings.near_copy_threshold if parts else 0)
    checked = {(f.source.case_id, f.id): f for f in found if f.correlation is not None}
    return [
        dataclasses.replace(
            part,
            results=[
                dataclasses.replace(r, score=f.score, copy_correlation=f.correlation)
                if (f := checked.get((r.case_id, r.id))) is not None
                else r
                for r in part.results
            ],
        )
        for part in parts
    ]


def merge_results(parts: list[QueryResult], settings: QuerySettings) -> QueryResult:
    """One result from the results of the same query over disjoint sets of cases (searched
    apart, e.g. on cluster workers): hits merged by score as :func:`search` orders them, the
    best ``k`` kept and renumbered, the counts summed; results marked again with this user's
    hash sets (and left out with ``hide_known``)."""
    first = parts[0]
    merged = sorted(
        (r for part in parts for r in part.results),
        key=lambda r: (-r.score, r.case_id or "", r.id),
    )
    with KnownFiles.open() as known:
        names = known.match_many([(r.md5, r.sha1, r.sha256) for r in merged]) if known.sets else []
        known_sets = [info.name for info in known.sets]
    marked = [
        dataclasses.replace(r, known=names[n] if names else None) for n, r in enumerate(merged)
    ]
    if settings.hide_known:
        marked = [r for r in marked if r.known is None]
    results = [dataclasses.replace(r, rank=n) for n, r in enumerate(marked[: settings.k], 1)]
    return dataclasses.replace(
        first,
        settings=settings,
        vectors_searched=sum(p.vectors_searched for p in parts),
        vectors_total=sum(p.vectors_total for p in parts),
        vectors_pending=sum(p.vectors_pending for p in parts),
        results=results,
        known_sets=known_sets,
    )
