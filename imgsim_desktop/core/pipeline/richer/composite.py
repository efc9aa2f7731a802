# SPDX-License-Identifier: Apache-2.0
"""A query made of more than one whole image: a region, several images, examples to learn from.

:class:`QuerySpec` says what the examiner asked: the query images (a region of the first one),
how several of them combine (:mod:`.combine`), and positive and negative examples for relevance
feedback (:mod:`.feedback`), as image files or as catalogue files (the results the examiner
marked). :func:`run_composite` embeds it all once and searches one case; the result lists every
image it was made of (``examples``) so it can be reproduced and reported, and its settings
record the region, the combine mode and the examples' paths.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imgsim_desktop.core.errors import QueryError, UnreadableImageError
from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.embedder import Descriptions, Embedder
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.query import QueryImage, QuerySettings, embed_query
from imgsim_desktop.core.pipeline.results import QueryResult
from imgsim_desktop.core.pipeline.richer.combine import Combine, merge_all, merge_any
from imgsim_desktop.core.pipeline.richer.feedback import Feedback
from imgsim_desktop.core.pipeline.richer.region import Region
from imgsim_desktop.core.pipeline.search import SearchSource, search
from imgsim_desktop.core.store.rerank import rerank_vectors

#: How deep each image of an "all of" query is searched for candidates (at least k).
ALL_DEPTH = 100


@dataclass(frozen=True)
class QuerySpec:
    """What a query is made of (besides its :class:`QuerySettings`).

    Attributes:
        images: the query image files (at least one).
        region: the rectangle of the first image searched, or None for the whole image.
        combine: how several images make one ranking (required when there are several).
        negatives, positives: example image files for relevance feedback.
        negative_ids, positive_ids: example files of the case by catalogue id (marked results).
    """

    images: tuple[str, ...]
    region: Region | None = None
    combine: Combine | None = None
    negatives: tuple[str, ...] = ()
    positives: tuple[str, ...] = ()
    negative_ids: tuple[int, ...] = ()
    positive_ids: tuple[int, ...] = ()

    def check(self) -> None:
        """Raise :class:`QueryError` for a spec that cannot be run."""
        if not self.images:
            raise QueryError("a query needs at least one image")
        if len(self.images) > 1 and self.combine is None:
            raise QueryError("several query images need a combine mode (all or any)")

    def settings(self, base: QuerySettings) -> QuerySettings:
        """``base`` with this spec's region, combine mode and example paths recorded."""
        return dataclasses.replace(
            base,
            region=tuple(self.region.as_list()) if self.region else None,  # type: ignore[arg-type]
            combine=self.combine.value if self.combine else None,
            negatives=tuple(str(p) for p in self.negatives),
            positives=tuple(str(p) for p in self.positives),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "images": list(self.images),
            "region": self.region.as_list() if self.region else None,
            "combine": self.combine.value if self.combine else None,
            "negatives": list(self.negatives),
            "positives": list(self.positives),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QuerySpec:
        region = data.get("region")
        combine = data.get("combine")
        return cls(
            images=tuple(data.get("images") or ()),
            region=Region(*region) if region else None,
            combine=Combine(combine) if combine else None,
            negatives=tuple(data.get("negatives") or ()),
            positives=tuple(data.get("positives") or ()),
        )


def _embed_examples(paths: tuple[str, ...], embedder: Embedder) -> tuple[Descriptions, list[str]]:
    """Upright descriptions and SHA-256 of example image files; raises UnreadableImageError."""
    pixels, digests = [], []
    for path in paths:
        try:
            loaded = load_for_embedding(Path(path), embedder.identity.shorter_side)
        except UnreadableImageError as exc:
            raise UnreadableImageError(f"example image {path}: {exc}") from exc
        pixels.append(loaded.pixels)
        digests.append(loaded.sha256)
    if not pixels:
        return Descriptions(np.zeros((0, embedder.identity.dim), np.float32)), []
    return embedder.describe(pixels), digests


@dataclass
class _Examples:
    """One role's example vectors, gathered: index vectors and re-ranking vectors."""

    index: list[np.ndarray]
    rerank: list[np.ndarray]

    def stacked(self, dim: int) -> np.ndarray:
        return np.concatenate(self.index) if self.index else np.zeros((0, dim), np.float32)

    def stacked_rerank(self) -> np.ndarray | None:
        return np.concatenate(self.rerank) if self.rerank else None


def _feedback(
    spec: QuerySpec, source: SearchSource, embedder: Embedder, rerank_dim: int | None
) -> tuple[Feedback, list[dict[str, Any]]]:
    """The example vectors (files embedded, marked files from the catalogue) and their record."""
    examples: list[dict[str, Any]] = []
    gathered = {"positive": _Examples([], []), "negative": _Examples([], [])}
    dim = embedder.identity.dim
    for role, paths, ids in (
        ("positive", spec.positives, spec.positive_ids),
        ("negative", spec.negatives, spec.negative_ids),
    ):
        described, digests = _embed_examples(paths, embedder)
        gathered[role].index.append(described.index)
        if described.rerank is not None:
            gathered[role].rerank.append(described.rerank)
        examples += [
            {"role": role, "path": str(p), "sha256": d} for p, d in zip(paths, digests, strict=True)
        ]
        if ids:
            records = source.catalog.records(ids)
            present = [i for i in ids if i in records]
            gathered[role].index.append(source.catalog.vectors(np.array(present, np.int64), dim))
            if rerank_dim is not None:
                gathered[role].rerank.append(rerank_vectors(source.catalog, present, rerank_dim)[1])
            examples += [
                {"role": role, "path": records[i].path, "sha256": records[i].sha256, "marked": True}
                for i in present
            ]
    positive, negative = gathered["positive"], gathered["negative"]
    feedback = Feedback(
        positive.stacked(dim),
        negative.stacked(dim),
        positive.stacked_rerank(),
        negative.stacked_rerank(),
    )
    return feedback, examples


def _moved(query: QueryImage, feedback: Feedback) -> QueryImage:
    if feedback.empty:
        return query
    rerank = None if query.rerank is None else feedback.apply_rerank(query.rerank)
    return dataclasses.replace(query, vectors=feedback.apply(query.vectors), rerank=rerank)


def run_composite(
    spec: QuerySpec,
    source: SearchSource,
    embedder: Embedder,
    head: SceneHead,
    settings: QuerySettings,
) -> QueryResult:
    """Search one case for ``spec``; raises QueryError, UnreadableImageError."""
    spec.check()
    settings = spec.settings(settings)
    queries = [
        embed_query(Path(path), embedder, head, settings, spec.region if n == 0 else None)
        for n, path in enumerate(spec.images)
    ]
    examples: list[dict[str, Any]] = []
    for n, (path, query) in enumerate(zip(spec.images, queries, strict=True)):
        entry: dict[str, Any] = {"role": "query", "path": str(path), "sha256": query.sha256}
        if n == 0 and spec.region is not None:
            entry["region"] = spec.region.as_list()
        examples.append(entry)
    rerank_dim = None if queries[0].rerank is None else int(queries[0].rerank.shape[1])
    feedback, example_records = _feedback(spec, source, embedder, rerank_dim)
    examples += example_records
    if spec.combine is Combine.ANY and len(queries) > 1:
        parts = [search(_moved(q, feedback), [source], head, settings) for q in queries]
        result = merge_any(parts, settings.k)
    elif len(queries) > 1:  # all of them: each searched deeper, candidates scored by all
        moved = [_moved(q, feedback) for q in queries]
        deeper = dataclasses.replace(settings, k=max(settings.k, ALL_DEPTH))
        parts = [search(q, [source], head, deeper) for q in moved]
        result = dataclasses.replace(
            merge_all(parts, moved, source.catalog, settings.k), settings=settings
        )
    else:
        result = search(_moved(queries[0], feedback), [source], head, settings)
    plain = len(spec.images) == 1 and spec.region is None and feedback.empty
    return dataclasses.replace(result, examples=[] if plain else examples)
