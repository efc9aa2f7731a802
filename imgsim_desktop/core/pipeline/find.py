# SPDX-License-Identifier: Apache-2.0
"""Word searches: a case's images ranked by the probability of the labels a word stands for.

Each indexed image carries its top ImageNet labels (:mod:`imgsim_desktop.core.model.objects`,
stored while indexing). An image's score for a word is the sum of the stored probabilities of the
word's labels (at most 1), so "computer" ranks a photo where a monitor and a keyboard are both
likely above one where only one is. Optionally limited to some scenes (the scene filter of the
GUI). What the classifier cannot see (small objects, classes it does not have) is not found:
this is a classifier, not a detector.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imgsim_desktop.core.model.object_words import labels_for_word
from imgsim_desktop.core.model.objects import OBJECTS_KIND, decode, imagenet_labels
from imgsim_desktop.core.pipeline.results import ResultRecord
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.hashsets import KnownFiles
from imgsim_desktop.core.store.records import STATUS_INDEXED

#: Probabilities under this are not a match (a label in an image's stored top list by chance).
MIN_PROBABILITY = 0.001


@dataclass
class FindResult:
    """A word search and its ranked images.

    Attributes:
        word: the word as given.
        labels: the ImageNet labels it stands for (full names).
        scenes: the scenes it was limited to (None: all).
        results: ranked like a query's; ``score`` is the summed probability.
        matched: per result, ``[{"label", "probability"}]`` of the word's labels it holds.
        images_labelled: indexed images that carry object labels.
        images_unlabelled: indexed images without (indexed before labels were stored, or by an
            embedder without an ImageNet head): not searched.
    """

    word: str
    labels: list[str]
    scenes: list[str] | None
    results: list[ResultRecord] = field(default_factory=list)
    matched: list[list[dict[str, Any]]] = field(default_factory=list)
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
        }
        if self.saved_search:
            data["saved_search"] = self.saved_search
        data["results"] = [
            {**r.to_json(), "labels": m} for r, m in zip(self.results, self.matched, strict=True)
        ]
        return data

    def audit_fields(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "labels": self.labels,
            "scenes": self.scenes,
            "k": len(self.results),
            "images_labelled": self.images_labelled,
            "results": [
                {"rank": r.rank, "path": r.path, "sha256": r.sha256, "score": round(r.score, 6)}
                for r in self.results
            ],
        }


def find_word(
    word: str, root: Path, catalog: Catalog, k: int, scenes: list[str] | None = None
) -> FindResult:
    """The ``k`` images of the case most likely to show ``word``; raises QueryError when no label
    stands for it."""
    names = imagenet_labels()
    wanted = labels_for_word(word, names)
    labelled = catalog.extras(OBJECTS_KIND)
    scored: list[tuple[float, int, dict[int, float]]] = []
    for file_id, blob in labelled.items():
        probabilities = decode(blob)
        hits = {i: p for i in wanted if (p := probabilities.get(i, 0.0)) >= MIN_PROBABILITY}
        if hits:
            scored.append((min(1.0, sum(hits.values())), file_id, hits))
    records = catalog.records(file_id for _, file_id, _ in scored)
    allowed = set(scenes) if scenes else None
    kept = [
        (score, file_id, hits)
        for score, file_id, hits in scored
        if (r := records.get(file_id)) is not None
        and r.status == STATUS_INDEXED
        and (allowed is None or (r.scene or "") in allowed)
    ]
    kept.sort(key=lambda item: (-item[0], item[1]))
    kept = kept[:k]
    indexed = catalog.count()
    result = FindResult(
        word,
        [names.names[i] for i in wanted],
        sorted(allowed) if allowed else None,
        images_labelled=len(labelled),
        images_unlabelled=max(0, indexed - len(labelled)),
    )
    with KnownFiles.open() as known:
        chosen = [records[file_id] for _, file_id, _ in kept]
        found = known.match_many([(r.md5, r.sha1, r.sha256) for r in chosen]) if known.sets else []
        result.known_sets = [info.name for info in known.sets]
    for n, ((score, file_id, hits), record) in enumerate(zip(kept, chosen, strict=True)):
        result.results.append(
            ResultRecord(
                rank=n + 1,
                id=file_id,
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
    return result
