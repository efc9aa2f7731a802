# SPDX-License-Identifier: Apache-2.0
"""A case's richer queries: a query spec (a region, several images, feedback examples), object
words, the examiner's marks as feedback, and saved searches.

:class:`CaseQueries` is a part of :class:`~imgsim_desktop.core.case.Case` (its base class), kept
here so that ``case.py`` stays about opening, indexing and plain queries. Every query is audited
like :meth:`Case.query <imgsim_desktop.core.case.Case.query>`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imgsim_desktop.core.errors import ImgsimError, ModelError, NotIndexedError, QueryError
from imgsim_desktop.core.model.object_words import labels_for_word
from imgsim_desktop.core.pipeline.query import QuerySettings
from imgsim_desktop.core.pipeline.results import QueryResult
from imgsim_desktop.core.pipeline.richer.composite import QuerySpec, run_composite
from imgsim_desktop.core.pipeline.search import SearchSource
from imgsim_desktop.core.pipeline.words.find import FindResult, find_word
from imgsim_desktop.core.store.work.audit import AuditLog
from imgsim_desktop.core.store.work.marks import MARK_INCLUDE, MARK_NOT_RELEVANT, MarkStore
from imgsim_desktop.core.store.work.saved_searches import SavedSearch, SavedSearches, SearchKind

if TYPE_CHECKING:
    from imgsim_desktop.core.model.embedder import Embedder
    from imgsim_desktop.core.model.scenes import SceneHead
    from imgsim_desktop.core.store.catalog import Catalog
    from imgsim_desktop.core.store.index import SceneIndexes

#: The options of a query (the settings a query spec does not fill in itself).
QUERY_OPTIONS = {f.name for f in dataclasses.fields(QuerySettings)} - {
    "region",
    "combine",
    "negatives",
    "positives",
}


class CaseQueries:
    """The richer queries of a case (mixed into :class:`~imgsim_desktop.core.case.Case`)."""

    root: Path
    data_dir: Path
    audit: AuditLog
    marks: MarkStore

    # Provided by Case:
    @property
    def embedder(self) -> Embedder:
        raise NotImplementedError

    @property
    def head(self) -> SceneHead:
        raise NotImplementedError

    @property
    def is_indexed(self) -> bool:
        raise NotImplementedError

    def _open_catalog(self, create: bool) -> Catalog:
        raise NotImplementedError

    def _query_indexes(self) -> SceneIndexes:
        raise NotImplementedError

    def query_spec(
        self, spec: QuerySpec, saved_search: str | None = None, **options: Any
    ) -> QueryResult:
        """Run a query made of a region, several images and/or feedback examples (see
        :mod:`imgsim_desktop.core.pipeline.richer.composite`); ``options`` are those of :meth:`query`
        (``k``, ``all_scenes``, ``hide_known``, ...). Audited like :meth:`query`."""
        if not self.is_indexed:
            raise NotIndexedError(f"case {self.root} has not been indexed yet (run: imgsim index)")
        catalog = self._open_catalog(create=False)
        unknown = set(options) - QUERY_OPTIONS
        if unknown:
            raise QueryError(f"unknown query options: {', '.join(sorted(unknown))}")
        settings = QuerySettings(**options)
        k = settings.k
        try:
            result = run_composite(
                spec,
                SearchSource(self.root, catalog, self._query_indexes()),
                self.embedder,
                self.head,
                settings,
            )
        except ImgsimError as exc:
            self.audit.append(
                "query_failed",
                query_path=str(spec.images[0]) if spec.images else "",
                k=k,
                query_spec=spec.to_json(),
                error=str(exc),
            )
            raise
        if saved_search is not None:
            result = dataclasses.replace(result, saved_search=saved_search)
        self.audit.append("query", **result.audit_fields())
        return result

    def find(
        self,
        word: str,
        k: int = 20,
        scenes: list[str] | None = None,
        saved_search: str | None = None,
    ) -> FindResult:
        """Rank the case's images by the probability of the ImageNet labels ``word`` stands for
        (see :mod:`imgsim_desktop.core.pipeline.words.find`), optionally within ``scenes``; audited."""
        if not self.is_indexed:
            raise NotIndexedError(f"case {self.root} has not been indexed yet (run: imgsim index)")
        catalog = self._open_catalog(create=False)
        try:
            with catalog.snapshot():
                current = self._current_embedder(catalog)
                result = find_word(word, self.root, catalog, k, scenes, current)
        except ImgsimError as exc:
            self.audit.append("find_failed", word=word, k=k, error=str(exc))
            raise
        result.saved_search = saved_search
        self.audit.append("find", **result.audit_fields(), saved_search=saved_search)
        return result

    def _current_embedder(self, catalog: Catalog) -> int | None:
        """The catalogue's id of this case's embedder (whose scene probabilities a word search
        reads), None when it has none or its model cannot be described (a word search reads
        stored labels only, so it still runs, without scenes)."""
        try:
            return catalog.embedder_id(self.embedder.identity.key)
        except ModelError:
            return None

    @property
    def searches(self) -> SavedSearches:
        """The case's saved searches (in its data folder)."""
        return SavedSearches(self.data_dir)

    def save_search(
        self,
        name: str,
        images: QuerySpec | None = None,
        word: str | None = None,
        scenes: list[str] | None = None,
        options: dict[str, Any] | None = None,
    ) -> SavedSearch:
        """Keep a query under ``name`` (an image query, or a word with its scenes); audited."""
        if (images is None) == (word is None):
            raise QueryError("a saved search is an image query or a word, one of them")
        if images is not None:
            images.check()
            search = SavedSearch(name, SearchKind.IMAGES, images.to_json(), dict(options or {}))
        else:
            labels_for_word(word or "")  # refuse a word that finds nothing now, not at re-run
            query = {"word": word, "scenes": list(scenes) if scenes else None}
            search = SavedSearch(name, SearchKind.WORD, query, dict(options or {}))
        saved = self.searches.save(search)
        self.audit.append("search_saved", name=name, search=saved.to_json())
        return saved

    def run_saved_search(self, name: str) -> QueryResult | FindResult:
        """Run the saved search ``name`` again, on the case as indexed now."""
        saved = self.searches.get(name)
        options = saved.options
        if saved.kind is SearchKind.WORD:
            return self.find(
                saved.query["word"],
                k=int(options.get("k", 20)),
                scenes=saved.query.get("scenes"),
                saved_search=name,
            )
        return self.query_spec(
            QuerySpec.from_json(saved.query),
            saved_search=name,
            **{key: value for key, value in options.items() if key in QUERY_OPTIONS},
        )

    def feedback_ids(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(positive, negative) catalogue ids of the files marked ``include`` and
        ``not_relevant`` in this case (every indexed copy of the marked content)."""
        marks = self.marks.all()
        found = self._open_catalog(create=False).ids_by_sha256(sha for _, sha in marks)
        positive: list[int] = []
        negative: list[int] = []
        for (_, sha256), mark in marks.items():
            target = {MARK_INCLUDE: positive, MARK_NOT_RELEVANT: negative}.get(mark.mark or "")
            if target is not None:
                target += [i for i in found.get(sha256, []) if i not in target]
        return tuple(positive), tuple(negative)
