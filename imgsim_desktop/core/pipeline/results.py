# SPDX-License-Identifier: Apache-2.0
"""What a query returns: ranked result records and the query's own description.

A query is described completely by its :class:`QueryResult`: the query file's hash, its scene
probabilities, the scenes searched, the settings used, the embedder identity and, for a search
over several cases, which cases answered and which were skipped and why, so that a result can be
reproduced and reported.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from imgsim_desktop.core.pipeline.query import QuerySettings


@dataclass(frozen=True)
class ResultRecord:
    """One ranked match.

    Attributes:
        case: the case folder as indexed (set by a search over several cases).
        case_id: that case's id (likewise).
        known: the known-file hash sets holding this file (names joined by ", "), or None.
        md5, sha1: the file's other digests from the catalogue (for hash-set lookups; not in the
            JSON of a query).
        similarity: the deep vectors' cosine (the query's best view against the image).
        pdq_distance: the PDQ Hamming distance (of 256 bits) to the query's closest dihedral
            variant, or None when either hash is unusable.
        near_copy: ``pdq_distance`` at or under the query's near-copy threshold.
        copy_correlation: the pixel correlation of the image's thumbnail with the query
            (:mod:`~imgsim_desktop.core.model.copycheck`), for the candidates it was measured
            on; None for the others.
    """

    rank: int
    id: int
    path: str
    absolute_path: str
    score: float
    scene: str
    sha256: str | None
    size: int
    width: int | None
    height: int | None
    case: str | None = None
    case_id: str | None = None
    known: str | None = None
    md5: str | None = None
    sha1: str | None = None
    similarity: float = 0.0
    pdq_distance: int | None = None
    near_copy: bool = False
    copy_correlation: float | None = None

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "rank": self.rank,
            "path": self.path,
            "score": round(self.score, 6),
            "scene": self.scene,
            "sha256": self.sha256,
            "known": self.known,
            "similarity": round(self.similarity, 6),
            "pdq_distance": self.pdq_distance,
            "near_copy": self.near_copy,
            "copy_correlation": (
                None if self.copy_correlation is None else round(self.copy_correlation, 4)
            ),
        }
        if self.case_id is not None:
            row["case"] = os.fsencode(self.case or "").decode("utf-8", "backslashreplace")
            row["case_id"] = self.case_id
        return row


@dataclass
class QueryResult:
    """A query, what was searched, and the ranked matches.

    Attributes:
        vectors_pending: indexed images whose vector another embedder made (a re-embed not
            finished): not searched.
        cases_searched: ids of the cases searched (a search over several cases).
        cases_skipped: ``{"case", "reason"}`` for each case that could not be searched.
        known_sets: the known-file hash sets the results were checked against.
        examples: every image the query was made of beyond a plain single image, in order:
            ``{"role": "query" | "positive" | "negative", "path", "sha256"}`` (a query image
            searched by a region adds ``"region": [x, y, w, h]``; see :mod:`.richer.composite`).
        saved_search: the name of the saved search this query re-ran, if any.
    """

    query_path: str
    query_sha256: str
    scene: str
    scene_confidence: float
    scene_probabilities: dict[str, float]
    scenes_searched: list[str]
    settings: QuerySettings
    embedder: str
    vectors_searched: int
    vectors_total: int
    results: list[ResultRecord] = field(default_factory=list)
    vectors_pending: int = 0
    cases_searched: list[str] | None = None
    cases_skipped: list[dict[str, str]] | None = None
    known_sets: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    saved_search: str | None = None

    def _query_block(self) -> dict[str, Any]:
        return {
            "path": os.fsencode(self.query_path).decode("utf-8", "backslashreplace"),
            "sha256": self.query_sha256,
            "scene": self.scene,
            "scene_confidence": round(self.scene_confidence, 4),
            "scenes_searched": self.scenes_searched,
            "settings": asdict(self.settings),
            "embedder": self.embedder,
            "vectors_searched": self.vectors_searched,
            "vectors_total": self.vectors_total,
            "vectors_pending": self.vectors_pending,
            "hash_sets": self.known_sets,
            **({"examples": self.examples} if self.examples else {}),
            **({"saved_search": self.saved_search} if self.saved_search else {}),
        }

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"query": self._query_block()}
        if self.cases_searched is not None:
            data["cases_searched"] = self.cases_searched
            data["cases_skipped"] = self.cases_skipped or []
        data["results"] = [r.to_json() for r in self.results]
        return data

    def audit_fields(self) -> dict[str, Any]:
        """The fields of the audit log's ``query`` event: enough to reproduce and check it."""
        block = self._query_block()
        return {
            "query_path": self.query_path,
            "query_sha256": self.query_sha256,
            "k": self.settings.k,
            **{key: block[key] for key in ("settings", "scene", "scenes_searched", "embedder")},
            **{
                key: block[key]
                for key in ("vectors_searched", "vectors_total", "vectors_pending", "hash_sets")
            },
            **{key: block[key] for key in ("examples", "saved_search") if key in block},
            "results": [
                {
                    "rank": r.rank,
                    "path": r.path,
                    "sha256": r.sha256,
                    "score": round(r.score, 6),
                    "pdq_distance": r.pdq_distance,
                    "near_copy": r.near_copy,
                }
                for r in self.results
            ],
        }
