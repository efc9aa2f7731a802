# SPDX-License-Identifier: Apache-2.0
"""Uniform borders (letterbox and pillarbox bars) found on a decoded picture, to leave out.

A portrait photo shown in a landscape frame, a picture forwarded by a messenger or a screenshot
often carries flat bars of one colour on two opposite sides. They are not the scene: pooled with
it they pull its vector towards every other barred picture. So the model sees the picture without
them. Rule: from each edge, the run of rows (columns) whose pixel range, over the line and all
channels, is at most :data:`TOLERANCE` levels is a bar when it covers at least :data:`MIN_RUN` of
the side and the opposite edge has one too (bars come in pairs; a single flat strip, such as sky
or a caption bar, is kept); at least :data:`KEEP` of each side always remains.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 24
MIN_RUN = 0.02
KEEP = 0.4


def _leading_run(flat: np.ndarray) -> int:
    """Length of the leading run of True values."""
    return len(flat) if flat.all() else int(np.argmin(flat))


def _pair(flat: np.ndarray, length: int) -> tuple[int, int]:
    """(start, end) to keep along one axis given which lines are flat."""
    start, end = _leading_run(flat), _leading_run(flat[::-1])
    if min(start, end) < MIN_RUN * length or length - start - end < KEEP * length:
        return 0, length
    return start, length - end


def content_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture without its bars: ``pixels[top:bottom,
    left:right]``. ``pixels`` is an (h, w, channels) uint8 array."""
    height, width = pixels.shape[:2]
    lines = pixels.astype(np.int16)
    rows_flat = (lines.max(axis=(1, 2)) - lines.min(axis=(1, 2))) <= TOLERANCE
    cols_flat = (lines.max(axis=(0, 2)) - lines.min(axis=(0, 2))) <= TOLERANCE
    top, bottom = _pair(rows_flat, height)
    left, right = _pair(cols_flat, width)
    return top, bottom, left, right
