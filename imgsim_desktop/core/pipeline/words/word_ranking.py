# SPDX-License-Identifier: Apache-2.0
"""How a word search orders a case's images: the word's labels first, then feedback from them.

Each image's *score* for a word is the summed stored probability of the word's labels (at most
1). The classifier misses what fills a small part of a picture (the refrigerator at the edge of a
kitchen, the monitor on a far desk), so ordering by that score alone leaves the images after the
sure ones in the order of noise. The ranking therefore also reads the word's surest images as
examples (pseudo-relevance feedback, as a search engine expands a query with its best hits): the
:data:`FEEDBACK_SEEDS` images with the highest score stand for the word, and every image is
ordered by its score (over the best score) plus :data:`FEEDBACK_WEIGHT` times the *likeness* of
its labels to theirs: the cosine of label profiles, each label's probability divided by its mean
over the case (a label every picture has says little) and square-rooted. A kitchen whose
refrigerator the classifier missed is still labelled like the kitchens where it saw one.

The seeds also say where the word's objects are in this case (a bed is in bedrooms; a
living-room sofa the classifier calls a "studio couch" is labelled much like one): the order
adds :data:`SCENE_WEIGHT` times the scene term of :mod:`.scene_feedback`, each image's likeness
of scene to the seeds', counted as much as the seeds agree on a scene and as the images' scenes
are known.

The score shown stays the labels' probability; only the order uses the likenesses, each result
carries both likenesses, and the search names its seed images and how much the scene counted,
so a reader can tell an image that shows the word's label from one that resembles those that do.

:data:`FEEDBACK_SEEDS`, :data:`FEEDBACK_WEIGHT` and :data:`SCENE_WEIGHT` were chosen on the
15-Scene *training* photos, with scene probabilities from heads that did not see the photo they
label (``python bench/word_rules.py``; precision at 20 over five words: 0.726 by the labels
alone, 0.774 with label feedback, 0.819 with the scene term at weight 2). That replay's words
are each tied to one of the head's scenes, so there more scene weight is better (weight 4:
0.825, 0.007 above 2 with a standard error of 0.002 over the draws; weight 8: 0.830). Weight 2
is a judgement the replay cannot measure: it keeps a word's labels at least as strong as the
scene when the seeds agree on one scene by chance (guns photographed on one bed, say).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imgsim_desktop.core.pipeline.words.scene_feedback import scene_feedback

#: Images standing for the word (its highest scores).
FEEDBACK_SEEDS = 5
#: Weight of the likeness to them, against the score over the best score (at most 1).
FEEDBACK_WEIGHT = 1.0
#: Weight of the scene likeness (a coefficient at most 1), times the seeds' scene agreement.
SCENE_WEIGHT = 2.0
#: Probabilities under this are not a label of the image (one in its stored list by chance).
MIN_PROBABILITY = 0.001
#: Added to each label's mean before dividing (a label almost no image has is not boosted wildly).
MEAN_FLOOR = 1e-3


@dataclass(frozen=True)
class LabelTable:
    """The stored labels of a case's images, one row an image.

    Attributes:
        ids: (n,) catalogue ids.
        labels: (n, t) label indexes (padding has probability 0).
        probabilities: (n, t) their probabilities (0 under :data:`MIN_PROBABILITY`).
    """

    ids: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray

    @classmethod
    def from_blobs(cls, blobs: dict[int, bytes]) -> LabelTable:
        """From the catalogue's ``objects`` extras (:func:`.model.objects.encode`'s bytes)."""
        ids = np.fromiter(blobs, dtype=np.int64, count=len(blobs))
        width = max((len(b) // 4 for b in blobs.values()), default=0)
        labels = np.zeros((len(ids), width), dtype=np.int32)
        probabilities = np.zeros((len(ids), width), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for row, blob in enumerate(blobs.values()):
            by_length.setdefault(len(blob) // 4, []).append(row)
        values = list(blobs.values())
        for count, rows in by_length.items():
            if not count:
                continue
            data = b"".join(values[r][: 4 * count] for r in rows)
            table = np.frombuffer(data, dtype="<u2").reshape(len(rows), 2 * count)
            labels[rows, :count] = table[:, :count]
            probabilities[rows, :count] = table[:, count:].copy().view("<f2")
        probabilities[~np.isfinite(probabilities)] = 0.0  # a damaged row spoils no other
        probabilities = np.clip(probabilities, 0.0, 1.0)
        probabilities[probabilities < MIN_PROBABILITY] = 0.0
        return cls(ids, labels, probabilities)

    def subset(self, rows: np.ndarray) -> LabelTable:
        return LabelTable(self.ids[rows], self.labels[rows], self.probabilities[rows])

    def scores(self, wanted: list[int]) -> np.ndarray:
        """(n,) each image's summed probability of the ``wanted`` labels, at most 1."""
        hits = np.isin(self.labels, np.asarray(wanted, dtype=np.int32))
        return np.minimum(1.0, (self.probabilities * hits).sum(axis=1))

    def profiles(self, classes: int) -> np.ndarray:
        """(n, t) each label's profile value: probability over its case mean, square-rooted,
        each row of unit length."""
        rows = max(1, len(self.ids))
        mean = (
            np.bincount(self.labels.ravel(), weights=self.probabilities.ravel(), minlength=classes)
            / rows
        )
        values = np.sqrt(self.probabilities / (mean[self.labels] + MEAN_FLOOR))
        norms = np.linalg.norm(values, axis=1, keepdims=True)
        return values / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class WordRanking:
    """A word's order over some images of a :class:`LabelTable`.

    Attributes:
        order: row indexes, best first.
        scores: (n,) the summed probability of the word's labels.
        likeness: (n,) the cosine of each image's label profile with the seeds' (0 without).
        scene_likeness: (n,) each found image's scene likeness to the seeds
            (:mod:`.scene_feedback`); NaN where unknown, and for all when no scenes were read.
        scene_agreement: how much the seeds agree on a scene (0 when no scenes were read).
        scene_known: the share of found images whose scenes are known (0 when none were read);
            the scene term counts ``scene_agreement * scene_known``.
        seeds: rows of the images that stood for the word.
    """

    order: np.ndarray
    scores: np.ndarray
    likeness: np.ndarray
    scene_likeness: np.ndarray
    scene_agreement: float
    scene_known: float
    seeds: np.ndarray


def rank_for_word(
    table: LabelTable,
    candidates: np.ndarray,
    wanted: list[int],
    scenes: np.ndarray | None = None,
    scene_weight: float = SCENE_WEIGHT,
) -> WordRanking:
    """Order ``candidates`` (rows of ``table``) for the word whose labels are ``wanted``: only
    images with some probability of them count as found; the feedback orders those (see the
    module docstring). Label means are taken over the whole table (the case). ``scenes``: the
    scene probabilities (n, s) of the table's rows (only the candidates' are read; NaN rows
    where unknown), or None; ``scene_weight``: the weight of the scene term."""
    classes = int(table.labels.max(initial=0)) + 1
    scores = table.scores(wanted)
    likeness = np.zeros(len(scores))
    in_scene = np.zeros(len(scores))
    found = candidates[scores[candidates] > 0]
    if not len(found):
        nothing = np.empty(0, np.int64)
        return WordRanking(nothing, scores, likeness, in_scene, 0.0, 0.0, nothing)
    by_score = found[np.argsort(-scores[found], kind="stable")]
    seeds = by_score[:FEEDBACK_SEEDS]
    profiles = table.profiles(classes)
    centre = np.bincount(
        table.labels[seeds].ravel(), weights=profiles[seeds].ravel(), minlength=classes
    ).astype(np.float64)
    centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
    likeness[found] = (profiles[found] * centre[table.labels[found]]).sum(axis=1)
    best = max(float(scores[found].max()), 1e-12)
    ranking = scores[found] / best + FEEDBACK_WEIGHT * likeness[found]
    agreement, known_share = 0.0, 0.0
    in_scene[found] = np.nan
    feedback = (
        None if scenes is None else scene_feedback(scenes[found], scenes[seeds], likeness[found])
    )
    if feedback is not None:
        in_scene[found] = feedback.likeness
        agreement, known_share = feedback.agreement, feedback.known_share
        ranking = ranking + scene_weight * feedback.term
    order = found[np.lexsort((table.ids[found], -ranking))]
    return WordRanking(order, scores, likeness, in_scene, agreement, known_share, seeds)
