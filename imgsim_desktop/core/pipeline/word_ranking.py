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

The seeds also say where the word's objects are in this case: a bed is in bedrooms, and a
living-room sofa the classifier calls a "studio couch" is labelled much like one. When the images
carry the scene head's probabilities (:mod:`imgsim_desktop.core.model.scenes`, stored while
indexing), the order adds :data:`SCENE_WEIGHT` times the *scene likeness*: the Bhattacharyya
coefficient of each image's scene probabilities with the seeds' mean (1 for the same scene
distribution, 0 for scenes the seeds never are). Seeds of mixed scenes have a flat mean, which
favours no image much; a word whose objects are everywhere is ordered by its labels.

The score shown stays the labels' probability; only the order uses the likenesses, each result
carries all three, and the search names its seed images, so a reader can tell an image that shows
the word's label from one that resembles those that do.

:data:`FEEDBACK_SEEDS`, :data:`FEEDBACK_WEIGHT` and :data:`SCENE_WEIGHT` were chosen on the
15-Scene *training* photos, with scene probabilities from heads that did not see the photo they
label (``python bench/word_rules.py``: precision at 20 over five words 0.726 by the labels
alone, 0.774 with label feedback, 0.818 with scene likeness too; weight 4 gave 0.824, weight 2
leaves the labels more say for words whose objects are in any scene).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Images standing for the word (its highest scores).
FEEDBACK_SEEDS = 5
#: Weight of the likeness to them, against the score over the best score (at most 1).
FEEDBACK_WEIGHT = 1.0
#: Weight of the likeness of scenes to the seeds' (at most 1).
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
        scene_likeness: (n,) the Bhattacharyya coefficient of each image's scene probabilities
            with the seeds' mean (0 without, or when the images had no scene probabilities).
        seeds: rows of the images that stood for the word.
    """

    order: np.ndarray
    scores: np.ndarray
    likeness: np.ndarray
    scene_likeness: np.ndarray
    seeds: np.ndarray


def _distributions(scenes: np.ndarray) -> np.ndarray:
    """Rows of scene probabilities made to sum to 1; a damaged or empty row becomes zeros."""
    clean = np.where(np.isfinite(scenes), np.clip(scenes, 0.0, 1.0), 0.0).astype(np.float64)
    sums = clean.sum(axis=1, keepdims=True)
    return np.divide(clean, sums, out=np.zeros_like(clean), where=sums > 0)


def scene_likeness(scenes: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(n,) the Bhattacharyya coefficient of each row of ``scenes`` (n, s) with the mean of the
    ``seeds`` rows (k, s), both scene probabilities; a damaged row is like nothing."""
    centre = _distributions(seeds).mean(axis=0)
    return np.sqrt(_distributions(scenes) * centre).sum(axis=1)


def rank_for_word(
    table: LabelTable,
    candidates: np.ndarray,
    wanted: list[int],
    scenes: np.ndarray | None = None,
) -> WordRanking:
    """Order ``candidates`` (rows of ``table``) for the word whose labels are ``wanted``: only
    images with some probability of them count as found; the feedback orders those (see the
    module docstring). Label means are taken over the whole table (the case). ``scenes``: the
    scene probabilities (n, s) of the table's rows (only the candidates' are read), or None."""
    classes = int(table.labels.max(initial=0)) + 1
    scores = table.scores(wanted)
    likeness = np.zeros(len(scores))
    in_scene = np.zeros(len(scores))
    found = candidates[scores[candidates] > 0]
    if not len(found):
        return WordRanking(np.empty(0, np.int64), scores, likeness, in_scene, np.empty(0, np.int64))
    by_score = found[np.argsort(-scores[found], kind="stable")]
    seeds = by_score[:FEEDBACK_SEEDS]
    profiles = table.profiles(classes)
    centre = np.bincount(
        table.labels[seeds].ravel(), weights=profiles[seeds].ravel(), minlength=classes
    ).astype(np.float64)
    centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
    likeness[found] = (profiles[found] * centre[table.labels[found]]).sum(axis=1)
    if scenes is not None:
        in_scene[found] = scene_likeness(scenes[found], scenes[seeds])
    best = max(float(scores[found].max()), 1e-12)
    ranking = (
        scores[found] / best + FEEDBACK_WEIGHT * likeness[found] + SCENE_WEIGHT * in_scene[found]
    )
    order = found[np.lexsort((table.ids[found], -ranking))]
    return WordRanking(order, scores, likeness, in_scene, seeds)
