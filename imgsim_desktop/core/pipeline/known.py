# SPDX-License-Identifier: Apache-2.0
"""Known files in query results and listings: which hash set holds each file, and leaving them
out of a query on request.

The catalogue keeps each file's SHA-256, MD5 and SHA-1 (computed while its bytes were read for
indexing), so checking a file is a few indexed lookups in the user's hash sets
(:class:`~imgsim_desktop.core.store.hashsets.KnownFiles`), batched over all the files at hand.

With ``hide_known`` a query that lost results to the sets is run again with a larger k until it
has k results that no set knows, or the searched scenes have no more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from imgsim_desktop.core.pipeline.search import QueryResult, QuerySettings, ResultRecord
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.hashsets import KnownFiles
from imgsim_desktop.core.store.records import FileRecord

#: How much larger each further search is when known files took places in the last one.
GROWTH = 4


def known_for_records(records: Sequence[FileRecord]) -> dict[int, str]:
    """Catalogue id -> names of the hash sets that know the file, for the known ones only."""
    with KnownFiles.open() as known:
        if not known.sets:
            return {}
        answers = known.match_many([(r.md5, r.sha1, r.sha256) for r in records])
    return {r.id: name for r, name in zip(records, answers, strict=True) if name}


def _mark(results: list[ResultRecord], catalog: Catalog, known: KnownFiles) -> list[ResultRecord]:
    if not known.sets or not results:
        return results
    records = catalog.records(r.id for r in results)
    rows = [
        (rec.md5, rec.sha1, rec.sha256) if (rec := records.get(r.id)) else (None, None, r.sha256)
        for r in results
    ]
    return [
        dataclasses.replace(r, known=name)
        for r, name in zip(results, known.match_many(rows), strict=True)
    ]


def search_with_known(
    search: Callable[[QuerySettings], QueryResult], settings: QuerySettings, catalog: Catalog
) -> QueryResult:
    """Run ``search`` and mark its results with the hash sets that know them; with
    ``settings.hide_known`` leave those out (searching further for k others, ranks renumbered).
    """
    with KnownFiles.open() as known:
        fetch = settings.k
        while True:
            result = search(dataclasses.replace(settings, k=fetch))
            results = _mark(result.results, catalog, known)
            if not settings.hide_known:
                break
            results = [r for r in results if r.known is None]
            exhausted = len(result.results) < fetch or fetch >= result.vectors_searched
            if len(results) >= settings.k or exhausted:
                results = [
                    dataclasses.replace(r, rank=n)
                    for n, r in enumerate(results[: settings.k], start=1)
                ]
                break
            fetch = min(fetch * GROWTH, max(result.vectors_searched, settings.k))
        result.results = results
        result.settings = settings
        result.known_sets = [info.name for info in known.sets]
    return result
