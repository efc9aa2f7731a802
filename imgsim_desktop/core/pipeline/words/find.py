# SPDX-License-Identifier: Apache-2.0
"""Word searches: a case's images ranked for the labels a word stands for.

Each indexed image carries its top ImageNet labels (:mod:`imgsim_desktop.core.model.objects`,
stored while indexing). An image is found for a word when it carries some probability of the
word's labels; its score is their summed probability (at most 1), so "computer" scores a photo
where a monitor and a keyboard are both likely above one where only one is. The order also
reads the word's surest images as examples, for their labels and their scenes
(:mod:`.word_ranking`); each result says its labels and how like those examples it is.
Optionally limited to some scenes (the scene filter of the GUI). What the classifier cannot see
(small objects, classes it does not have) is not found: this is a classifier, not a detector.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imgsim_desktop.core.model.object_words import labels_for_word
from imgsim_desktop.core.model.objects import OBJECTS_KIND, imagenet_labels
from imgsim_desktop.core.pipeline.results import ResultRecord
from imgsim_desktop.core.pipeline.words.word_ranking import (
    FEEDBACK_WEIGHT,
    SCENE_WEIGHT,
    LabelTable,
    rank_for_word,
)
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.known.hashsets import KnownFiles
from imgsim_desktop.core.store.records import STATUS_INDEXED


@dataclass
class FindResult:
    """A word search and its ranked images.

    Attributes:
        word: the word as given.
        labels: the ImageNet labels it stands for (full names).
        scenes: the scenes it was limited to (None: all).
        results: ranked (see the module docstring); ``score`` is the summed probability.
        matched: per result, ``[{"label", "probability"}]`` of the word's labels it holds.
        likeness: per result, the likeness of its labels to the seed images'.
        scene_likeness: per result, the likeness of its scene probabilities to the seed images'
            (None when its probabilities are unknown or no scenes were read).
        scene_agreement: how much the seed images agree on a scene (0 when no scenes were read).
        scene_known: the share of found images whose scenes are known; the scene term counts
            ``scene_agreement * scene_known`` (:mod:`.scene_feedback`).
        seeds: the paths of the images that stood for the word (its highest scores).
        images_labelled: indexed images that carry object labels.
        images_unlabelled: indexed images without (indexed before labels were stored, or by an
            embedder without an ImageNet head): not searched.
    """

    word: str
    labels: list[str]
    scenes: list[str] | None
    results: list[ResultRecord] = field(default_factory=list)
    matched: list[list[dict[str, Any]]] = field(default_factory=list)
    likeness: list[float] = field(default_factory=list)
    scene_likeness: list[float | None] = field(default_factory=list)
    scene_agreement: float = 0.0
    scene_known: float = 0.0
    seeds: list[str] = field(default_factory=list)
    images_labelled: int = 0
    images_unlabelled: int = 0
    known_sets: list[str] = field(default_factory=list)
    saved_search: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "word": self.word,
            "labels": self.labels,
            "scenes": self.scenes,
            "images_labelled": self.images_labelled,
            "images_unlabelled": self.images_unlabelled,
            "hash_sets": self.known_sets,
            "feedback": {
                "seeds": self.seeds,
                "weight": FEEDBACK_WEIGHT,
                "scene_weight": SCENE_WEIGHT,
                "scene_agreement": round(self.scene_agreement, 6),
                "scene_known": round(self.scene_known, 6),
            },
        }
        if self.saved_search:
            data["saved_search"] = self.saved_search
        data["results"] = [
            {
                **r.to_json(),
                "labels": m,
                "likeness": round(like, 6),
                "scene_likeness": None if scene is None else round(scene, 6),
            }
            for r, m, like, scene in zip(
                self.results, self.matched, self.likeness, self.scene_likeness, strict=True
            )
        ]
        return data

    def audit_fields(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "labels": self.labels,
            "scenes": self.scenes,
            "k": len(self.results),
            "images_labelled": self.images_labelled,
            "feedback_seeds": self.seeds,
            "scene_agreement": round(self.scene_agreement, 6),
            "scene_known": round(self.scene_known, 6),
            "results": [
                {"rank": r.rank, "path": r.path, "sha256": r.sha256, "score": round(r.score, 6)}
                for r in self.results
            ],
        }


def _scene_table(
    catalog: Catalog, ids: np.ndarray, rows: np.ndarray, embedder_id: int | None
) -> np.ndarray | None:
    """The scene probabilities stored for ``rows`` (positions in ``ids``) by the scene head of
    the embedder ``embedder_id`` (another's, from before a re-embed, may order scenes otherwise),
    as (len(ids), s) rows; NaN rows where unknown (none stored, a damaged or odd-sized blob).
    None when no row is known."""
    stored = catalog.scene_probabilities((int(i) for i in ids[rows]), embedder_id)
    sizes = Counter(len(p) for p in stored.values())
    if not sizes:
        return None
    size = sizes.most_common(1)[0][0]
    table = np.full((len(ids), size), np.nan, dtype=np.float32)
    for row in rows.tolist():
        probabilities = stored.get(int(ids[row]))
        if probabilities is not None and len(probabilities) == size:
            table[row] = probabilities
    return table


def find_word(
    word: str,
    root: Path,
    catalog: Catalog,
    k: int,
    scenes: list[str] | None = None,
    embedder_id: int | None = None,
) -> FindResult:
    """The ``k`` images of the case most likely to show ``word``; raises QueryError when no label
    stands for it. ``embedder_id``: the case's current embedder, whose scene probabilities the
    order reads (None: the order reads no scenes)."""
    names = imagenet_labels()
    wanted = labels_for_word(word, names)
    labelled = catalog.extras(OBJECTS_KIND)
    table = LabelTable.from_blobs(labelled)
    with_labels = np.flatnonzero(table.scores(wanted) > 0)  # only these can be found
    records = catalog.records(int(i) for i in table.ids[with_labels])
    allowed = set(scenes) if scenes else None
    candidates = np.array(
        [
            row
            for row, file_id in zip(
                with_labels.tolist(), table.ids[with_labels].tolist(), strict=True
            )
            if (r := records.get(file_id)) is not None
            and r.status == STATUS_INDEXED
            and (allowed is None or (r.scene or "") in allowed)
        ],
        dtype=np.int64,
    )
    in_scenes = _scene_table(catalog, table.ids, candidates, embedder_id)
    ranking = rank_for_word(table, candidates, wanted, in_scenes)
    kept = ranking.order[:k]
    indexed = catalog.count()
    result = FindResult(
        word,
        [names.names[i] for i in wanted],
        sorted(allowed) if allowed else None,
        images_labelled=len(labelled),
        images_unlabelled=max(0, indexed - len(labelled)),
    )
    result.scene_agreement = ranking.scene_agreement
    result.scene_known = ranking.scene_known
    result.seeds = [records[int(table.ids[row])].path for row in ranking.seeds]
    with KnownFiles.open() as known:
        chosen = [records[int(table.ids[row])] for row in kept]
        found = known.match_many([(r.md5, r.sha1, r.sha256) for r in chosen]) if known.sets else []
        result.known_sets = [info.name for info in known.sets]
    wanted_set = set(wanted)
    for n, (row, record) in enumerate(zip(kept.tolist(), chosen, strict=True)):
        score = float(ranking.scores[row])
        hits = {
            int(label): float(p)
            for label, p in zip(table.labels[row], table.probabilities[row], strict=True)
            if p > 0 and int(label) in wanted_set
        }
        result.results.append(
            ResultRecord(
                rank=n + 1,
                id=int(table.ids[row]),
                path=record.path,
                absolute_path=os.fsdecode(os.path.join(os.fsencode(root), record.relpath)),
                score=score,
                scene=record.scene or "",
                sha256=record.sha256,
                size=record.size,
                width=record.width,
                height=record.height,
                known=found[n] if found else None,
                md5=record.md5,
                sha1=record.sha1,
                similarity=score,
            )
        )
        result.matched.append(
            [
                {"label": names.short(i), "probability": round(p, 4)}
                for i, p in sorted(hits.items(), key=lambda item: -item[1])
            ]
        )
        result.likeness.append(float(ranking.likeness[row]))
        scene_likeness = float(ranking.scene_likeness[row])
        result.scene_likeness.append(scene_likeness if np.isfinite(scene_likeness) else None)
    return result
