# SPDX-License-Identifier: Apache-2.0
"""One ranking from two signals: the deep vectors' similarity and the PDQ distance.

The rule, stated once (README, Quality):

    score = similarity + max(bonus(pdq_distance), verified(copy_correlation))

where ``similarity`` is the cosine between the query's best view and the image's stored vector
(0 to 1), and ``bonus`` is 1 for a PDQ distance at or under the near-copy threshold (31 bits of
256 by default), falls linearly to 0 at :data:`PDQ_HORIZON` bits, and is 0 when either hash is
unusable. A near copy (score above 1.9 or so) therefore ranks above every look-alike (at most 1),
a copy PDQ only half recognises (a captioned one, 40-70 bits away) gets part of the way, and
unrelated pictures, which measure 96 bits and more, get nothing. ``verified`` is the pixel
correlation of the image's thumbnail with the query (a crop cut out of the query, which PDQ
cannot see; see :mod:`~imgsim_desktop.core.model.copycheck`) mapped the same way: 0 up to
:data:`COPY_CORRELATION`, rising linearly to 1 at a perfect correlation; it is measured on the
:data:`VERIFIED_CANDIDATES` best candidates that are not near copies already (0 for the others). The score is a function of the query and one image alone, so rankings merged
across cases stay exact.
"""

from __future__ import annotations

import numpy as np

#: PDQ distance beyond which two pictures are taken as unrelated (unrelated photos measure about
#: 96 bits and more: the 0.1st percentile on the copy bench's other photos).
PDQ_HORIZON = 90
#: At most this many of a case's closest PDQ matches join the deep vectors' hits as candidates.
PDQ_CANDIDATES = 200
#: Pixel correlation from which a candidate starts to count as a copy (or crop) of the query.
#: Chosen on training pictures only: crops of 15-Scene training images against 10 other images
#: of the same class each (highest 0.60) and ukbench photos of one object (99th percentile 0.72).
COPY_CORRELATION = 0.8
#: How many of a source's best candidates (not near copies already) are verified by pixels.
VERIFIED_CANDIDATES = 10


def pdq_bonus(distance: int | None, threshold: int) -> float:
    """1 at or under ``threshold``, falling linearly to 0 at :data:`PDQ_HORIZON`; 0 for None."""
    if distance is None or distance >= PDQ_HORIZON:
        return 0.0
    if distance <= threshold:
        return 1.0
    return (PDQ_HORIZON - distance) / (PDQ_HORIZON - threshold)


def copy_bonus(correlation: float | None) -> float:
    """0 up to :data:`COPY_CORRELATION`, rising linearly to 1 at 1.0; 0 for None."""
    if correlation is None or correlation <= COPY_CORRELATION:
        return 0.0
    return min(1.0, (correlation - COPY_CORRELATION) / (1.0 - COPY_CORRELATION))


def fused_score(
    similarity: float, distance: int | None, threshold: int, correlation: float | None = None
) -> float:
    """The ranking score of one image for one query (see the module docstring)."""
    return similarity + max(pdq_bonus(distance, threshold), copy_bonus(correlation))


def similarities(views: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(n,) the best cosine of each stored vector with any of the query's views."""
    if not len(vectors):
        return np.empty(0, np.float32)
    return (vectors @ views.T).max(axis=1)


def closest(
    distances: np.ndarray, ids: np.ndarray, count: int = PDQ_CANDIDATES
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, distances) of the ``count`` closest hashes within :data:`PDQ_HORIZON`."""
    within = np.flatnonzero(distances < PDQ_HORIZON)
    if len(within) > count:
        within = within[np.argsort(distances[within], kind="stable")[:count]]
    return ids[within], distances[within]
