# SPDX-License-Identifier: Apache-2.0
"""The seeds' scenes as feedback for a word search: where the word's surest images are.

A bed is in bedrooms, and a living-room sofa the classifier calls a "studio couch" is labelled
much like one. Every image carries the scene head's probabilities (:mod:`imgsim_desktop.core.
model.scenes`, stored while indexing), so a word search (:mod:`.word_ranking`) also orders its
found images by how like its seeds' scenes theirs are:

- an image's *scene likeness* is the mean, over the seeds, of the Bhattacharyya coefficient of
  its scene distribution with each seed's (1 for the same distribution, 0 for scenes that seed
  is not in): linear in the seeds' shares, so four bedroom seeds and one living-room seed lift
  bedrooms four times as much as living rooms;
- the seeds' *agreement* is how far the largest probability of their mean distribution stands
  above chance (1 when every seed is surely one scene, 0 when they spread evenly): seeds in
  scenes of their own barely count, and the labels order the images;
- an image whose probabilities are unknown (none stored, damaged, or made by an embedder the case
  no longer uses) gets the likeness the known images' suggest for its label likeness to the
  seeds (a least-squares line), and reports none; seeds whose scenes are unknown are left out;
  and the term counts only as much as the share of found images whose scenes are known, so a
  case mostly without them is ordered mostly by its labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SceneFeedback:
    """The scene term of a word's order over its found images.

    Attributes:
        likeness: (m,) each found image's scene likeness; NaN where its scenes are unknown.
        term: (m,) what the order adds per image, before the weight: ``agreement`` times
            ``known_share`` times the likeness (or its stand-in).
        agreement: how much the seeds agree on a scene (:func:`scene_agreement`).
        known_share: the share of found images whose scenes are known.
    """

    likeness: np.ndarray
    term: np.ndarray
    agreement: float
    known_share: float


def known_scenes(scenes: np.ndarray) -> np.ndarray:
    """(n,) True for rows of scene probabilities that can be read: finite, none negative, some
    probability (a damaged or missing row, NaN-filled by its reader, is unknown)."""
    return np.isfinite(scenes).all(axis=1) & (scenes >= 0).all(axis=1) & (scenes.sum(axis=1) > 0)


def _distributions(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float64)
    return rows / rows.sum(axis=1, keepdims=True)


def scene_agreement(centre: np.ndarray) -> float:
    """How much seeds whose mean scene distribution is ``centre`` share one scene: its largest
    probability over chance, 0 when spread evenly over the scenes, 1 when surely one."""
    chance = 1.0 / max(1, len(centre))
    if chance >= 1.0:
        return 0.0
    return float((centre.max() - chance) / (1.0 - chance))


def seed_likeness(scenes: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(n,) the mean Bhattacharyya coefficient of each row of ``scenes`` (n, s) with each of the
    ``seeds`` rows (k, s), all made to sum to 1; NaN for a row that is not known (the seeds must
    all be known)."""
    known = known_scenes(scenes)
    out = np.full(len(scenes), np.nan)
    roots = np.sqrt(_distributions(scenes[known]))
    out[known] = (roots @ np.sqrt(_distributions(seeds)).T).mean(axis=1)
    return out


def stand_in(likeness: np.ndarray, label_likeness: np.ndarray) -> np.ndarray:
    """(n,) ``likeness`` where known; elsewhere the value the known images' line of scene
    likeness on label likeness gives (clipped to [0, 1]), or their median when no line fits."""
    known = np.isfinite(likeness)
    out = likeness.copy()
    if known.all() or not known.any():
        return np.where(known, out, 0.0)
    x, y = label_likeness[known], likeness[known]
    spread = float(np.var(x))
    if len(x) >= 2 and spread > 1e-12:
        slope = float(np.mean((x - x.mean()) * (y - y.mean()))) / spread
        guess = y.mean() + slope * (label_likeness[~known] - x.mean())
    else:
        guess = np.full(int((~known).sum()), float(np.median(y)))
    out[~known] = np.clip(guess, 0.0, 1.0)
    return out


def scene_feedback(
    scenes: np.ndarray, seeds: np.ndarray, label_likeness: np.ndarray
) -> SceneFeedback | None:
    """The scene term for found images with scene probabilities ``scenes`` (m, s; NaN rows where
    unknown), whose seeds have ``seeds`` (k, s), and whose label likeness to the seeds is
    ``label_likeness`` (m,); None when no seed's scenes are known."""
    usable = seeds[known_scenes(seeds)]
    if not len(usable):
        return None
    agreement = scene_agreement(_distributions(usable).mean(axis=0))
    likeness = seed_likeness(scenes, usable)
    share = float(np.isfinite(likeness).mean()) if len(likeness) else 0.0
    term = agreement * share * stand_in(likeness, label_likeness)
    return SceneFeedback(likeness, term, agreement, share)
