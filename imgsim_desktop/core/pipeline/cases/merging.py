# SPDX-License-Identifier: Apache-2.0
"""Results of one query searched apart (on cluster workers, each over some cases) made one: the
pixel verification done over their union, then the hits merged by score, as a search over all
the cases in one process (:func:`imgsim_desktop.core.pipeline.search.search`) would rank them."""

from __future__ import annotations

import dataclasses

from imgsim_desktop.core.pipeline.candidates import Candidate, SearchSource, verify_by_pixels
from imgsim_desktop.core.pipeline.query import QueryImage, QuerySettings
from imgsim_desktop.core.pipeline.results import QueryResult
from imgsim_desktop.core.store.known.hashsets import KnownFiles


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
        Candidate(r.id, by_case[r.case_id], r.score, r.similarity, r.pdq_distance)
        for part in parts
        for r in part.results
        if r.case_id in by_case
    ]
    verify_by_pixels(query.picture, found, parts[0].settings.near_copy_threshold if parts else 0)
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
