# SPDX-License-Identifier: Apache-2.0
"""One ranking from two signals: the deep vectors' similarity and the PDQ distance.

The rule, stated once (README, Quality):

    score = similarity + bonus(pdq_distance)

where ``similarity`` is the cosine between the query's best view and the image's stored vector
(0 to 1), and ``bonus`` is 1 for a PDQ distance at or under the near-copy threshold (31 bits of
256 by default), falls linearly to 0 at :data:`PDQ_HORIZON` bits, and is 0 when either hash is
unusable. A near copy (score above 1.9 or so) therefore ranks above every look-alike (at most 1),
a copy PDQ only half recognises (a captioned one, 40-70 bits away) gets part of the way, and
unrelated pictures, which measure 96 bits and more, get nothing. The score is a function of the
query and one image alone, so rankings merged across cases stay exact.
"""

from __future__ import annotations

import numpy as np

#: PDQ distance beyond which two pictures are taken as unrelated (unrelated photos measure about
#: 96 bits and more: the 0.1st percentile on the copy bench's other photos).
PDQ_HORIZON = 90
#: At most this many of a case's closest PDQ matches join the deep vectors' hits as candidates.
PDQ_CANDIDATES = 200


def pdq_bonus(distance: int | None, threshold: int) -> float:
    """1 at or under ``threshold``, falling linearly to 0 at :data:`PDQ_HORIZON`; 0 for None."""
    if distance is None or distance >= PDQ_HORIZON:
        return 0.0
    if distance <= threshold:
        return 1.0
    return (PDQ_HORIZON - distance) / (PDQ_HORIZON - threshold)


def fused_score(similarity: float, distance: int | None, threshold: int) -> float:
    """The ranking score of one image for one query (see the module docstring)."""
    return similarity + pdq_bonus(distance, threshold)


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
