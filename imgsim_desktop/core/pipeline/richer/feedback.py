# SPDX-License-Identifier: Apache-2.0
"""Relevance feedback: the query descriptor moved towards positive and away from negative examples.

Rocchio's rule on L2-normalised descriptors, applied to each view of the query (upright and its
quarter turns) and normalised again::

    q' = alpha * q + beta * mean(positives) - gamma * mean(negatives)

so that it is not only the negative file that goes down but every image like it: an image's
cosine with ``q'`` loses ``gamma * cos(image, mean(negatives))``, which is largest for the
negatives' look-alikes. The weights are the textbook ones for positives (alpha 1, beta 0.75); the
negative weight is stronger than the textbook 0.15 because an examiner gives a negative exactly
when a look-alike ranks too high, usually one or two of them (README, Richer queries: how often
results drop in the check). Examples are vectors of the same embedder: image files embedded upright, or
catalogue vectors of marked results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 1.0
BETA = 0.75
GAMMA = 0.5


@dataclass(frozen=True)
class Feedback:
    """Example vectors (rows, L2-normalised) and the Rocchio weights: index vectors, and the
    re-ranking vectors of the same examples when the embedder makes them (the final scores are
    the re-ranking vectors' cosines, so the feedback must move both)."""

    positives: np.ndarray
    negatives: np.ndarray
    rerank_positives: np.ndarray | None = None
    rerank_negatives: np.ndarray | None = None
    alpha: float = ALPHA
    beta: float = BETA
    gamma: float = GAMMA

    @property
    def empty(self) -> bool:
        return not len(self.positives) and not len(self.negatives)

    def apply(self, views: np.ndarray) -> np.ndarray:
        """The query's views (n, dim) moved by the examples, each L2-normalised again."""
        return rocchio(views, self.positives, self.negatives, self.alpha, self.beta, self.gamma)

    def apply_rerank(self, views: np.ndarray) -> np.ndarray:
        """The query's re-ranking views moved by the examples' re-ranking vectors."""
        dim = views.shape[1]
        positives = self.rerank_positives
        negatives = self.rerank_negatives
        return rocchio(
            views,
            positives if positives is not None else np.zeros((0, dim), np.float32),
            negatives if negatives is not None else np.zeros((0, dim), np.float32),
            self.alpha,
            self.beta,
            self.gamma,
        )


def rocchio(
    views: np.ndarray,
    positives: np.ndarray,
    negatives: np.ndarray,
    alpha: float = ALPHA,
    beta: float = BETA,
    gamma: float = GAMMA,
) -> np.ndarray:
    """``alpha * view + beta * mean(positives) - gamma * mean(negatives)``, per view, normalised.

    Either example array may be empty (0 rows): its term is left out.
    """
    moved = alpha * np.asarray(views, dtype=np.float32)
    if len(positives):
        moved = moved + beta * np.asarray(positives, dtype=np.float32).mean(axis=0)
    if len(negatives):
        moved = moved - gamma * np.asarray(negatives, dtype=np.float32).mean(axis=0)
    norms = np.linalg.norm(moved, axis=1, keepdims=True)
    return (moved / np.maximum(norms, 1e-12)).astype(np.float32)
