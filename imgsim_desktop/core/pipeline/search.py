# SPDX-License-Identifier: Apache-2.0
"""Searching one case or many: the embedded query against each source's indexes, one ranking.

A source is a case's catalogue and its per-scene indexes: a case of this user's app data, or an
archived one in a library. The query is embedded once (:mod:`.query`); every source is searched
with the same vectors and scenes, and the hits of all sources are merged by score, so that the
ranking over two cases is the ranking of one case holding both. Only the vectors the query's
embedder made are searched; a source still being re-embedded says how many are pending.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.query import QueryImage, QuerySettings, embed_query
from imgsim_desktop.core.pipeline.results import QueryResult, ResultRecord
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.index import Hit, SceneIndexes

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
    hit: Hit
    source: SearchSource


def _records(found: list[_Found]) -> list[ResultRecord]:
    by_source: dict[int, list[_Found]] = {}
    for item in found:
        by_source.setdefault(id(item.source), []).append(item)
    records = {}
    for items in by_source.values():
        source = items[0].source
        rows = source.catalog.records(i.hit.id for i in items)
        for item in items:
            records[(id(source), item.hit.id)] = rows.get(item.hit.id)
    results: list[ResultRecord] = []
    for item in found:
        record = records.get((id(item.source), item.hit.id))
        if record is None:  # removed from the catalogue after the index was loaded
            continue
        results.append(
            ResultRecord(
                rank=len(results) + 1,
                id=item.hit.id,
                path=record.path,
                absolute_path=os.fsdecode(
                    os.path.join(os.fsencode(item.source.root), record.relpath)
                ),
                score=item.hit.score,
                scene=record.scene or "",
                sha256=record.sha256,
                size=record.size,
                width=record.width,
                height=record.height,
                case=str(item.source.root) if item.source.case_id is not None else None,
                case_id=item.source.case_id,
            )
        )
    return results


def search(
    query: QueryImage, sources: list[SearchSource], head: SceneHead, settings: QuerySettings
) -> QueryResult:
    """Search every source with the embedded query; one ranking of the best ``k``."""
    scenes = query.scenes(head, settings)
    found: list[_Found] = []
    searched = total = pending = 0
    for source in sources:
        embedder_id = source.catalog.embedder_id(query.embedder)
        with source.indexes.lock:
            source.indexes.sync_for_query(source.catalog, list(head.all_labels))
            counts = source.catalog.scene_counts(embedder_id)
            hits, in_source = source.indexes.search(
                query.vectors, [s for s in scenes if s in counts], settings.k
            )
        found += [_Found(hit, source) for hit in hits]
        searched += in_source
        total += sum(counts.values())
        pending += source.catalog.pending(embedder_id)
    found.sort(key=lambda f: (-f.hit.score, f.source.case_id or "", f.hit.id))
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
        results=_records(found[: settings.k]),
        vectors_pending=pending,
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
