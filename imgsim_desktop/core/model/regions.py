# SPDX-License-Identifier: Apache-2.0
"""Regional pooling of the backbone's feature map (R-MAC-style regions, GeM in each).

A photo of the same place, a crop or a picture with a caption bar shares *parts* with the query
more than it shares the whole frame. So the descriptor pools the feature map not only as a whole
but also over a fixed grid of overlapping square regions at several scales (Tolias, Sicre and
Jégou, "Particular object retrieval with integral max-pooling of CNN activations", ICLR 2016),
each with generalised-mean pooling (p = 3), and leaves it to the learned whitening
(:mod:`.descriptor`) to weigh them. The regions' GeM is computed for a whole batch at once from one
integral image of ``x ** 3``, so adding regions costs a few milliseconds, not a forward pass.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

GEM_P = 3.0
#: Overlap of neighbouring regions of one scale (R-MAC's 40%).
OVERLAP = 0.4

Region = tuple[int, int, int, int]


@lru_cache(maxsize=64)
def rmac_regions(height: int, width: int, levels: int) -> tuple[Region, ...]:
    """The whole map and, at each scale ``l = 1..levels``, square regions of side
    ``2 * min(h, w) / (l + 1)`` laid out with about :data:`OVERLAP` overlap; each region is
    ``(y0, y1, x0, x1)`` in feature-map cells, duplicates dropped, order fixed."""
    out: list[Region] = [(0, height, 0, width)]
    short = min(height, width)
    for level in range(1, levels + 1):
        side = max(1, round(2 * short / (level + 1)))
        ys = _starts(height, side)
        xs = _starts(width, side)
        out += [(y, y + side, x, x + side) for y in ys for x in xs]
    return tuple(dict.fromkeys(out))


def _starts(length: int, side: int) -> list[int]:
    """Evenly spread start offsets of windows of ``side`` cells along ``length`` cells."""
    if side >= length:
        return [(length - side) // 2] if side == length else [0]
    count = math.ceil((length - side) / ((1 - OVERLAP) * side)) + 1
    if count == 1:
        return [(length - side) // 2]
    return [round(i * (length - side) / (count - 1)) for i in range(count)]


def regional_gem(features: torch.Tensor, regions: tuple[Region, ...]) -> torch.Tensor:
    """(n, c, h, w) feature maps -> (n, len(regions), c) GeM vectors (p = 3), each L2-normalised.

    One integral image of ``max(x, 1e-6) ** 3`` per map; a region's mean is four lookups."""
    import torch

    cubed = features.clamp(min=1e-6).pow(GEM_P)
    n, c, h, w = cubed.shape
    integral = torch.zeros((n, c, h + 1, w + 1), dtype=cubed.dtype)
    integral[:, :, 1:, 1:] = cubed.cumsum(2).cumsum(3)
    flat = integral.reshape(n, c, -1)
    box = torch.tensor(regions, dtype=torch.long)
    y0, y1, x0, x1 = box[:, 0], box[:, 1], box[:, 2], box[:, 3]
    stride = w + 1
    sums = (
        flat[:, :, y1 * stride + x1]
        - flat[:, :, y0 * stride + x1]
        - flat[:, :, y1 * stride + x0]
        + flat[:, :, y0 * stride + x0]
    )  # (n, c, R)
    area = ((y1 - y0) * (x1 - x0)).to(cubed.dtype)
    pooled = (sums / area).clamp(min=1e-18).pow(1.0 / GEM_P).transpose(1, 2)
    return torch.nn.functional.normalize(pooled, dim=2)
