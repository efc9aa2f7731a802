# SPDX-License-Identifier: Apache-2.0
"""The scene head's input: the picture's layout, from the descriptor's own forward pass.

A scene is largely a layout: sky above, a floor below, a horizon or a counter in between. The
index vector (:mod:`.descriptor`) is made to ignore exactly that (crops, turns and mirror images
of a photo must stay close), so the scene head reads another summary of the same feature map:
GeM (p = 3) of the whole map and of its top, middle and bottom bands (overlapping, about three
sevenths of the height each), each L2-normalised, concatenated and scaled to unit length
(4 x 1280 = 5120 values). On the 15-Scene test split a linear head on it is right on 0.9273 of
the images against 0.9183 on the 256-d index vector (``python bench/scene_head_study.py``). The
bands cost four lookups each in the integral image the regions are pooled from
(:func:`.regions.regional_gem`): nothing measurable beside the forward pass.

The layout is not stored: a new scene head changes the embedder's identity (its key is part of
it), so every case is re-embedded, atomically, as for a new descriptor.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from imgsim_desktop.core.model.regions import Region, regional_gem, rmac_regions

if TYPE_CHECKING:
    import torch

#: The backbone's channels.
CHANNELS = 1280
#: The whole map and three bands.
PARTS = 4
LAYOUT_DIM = PARTS * CHANNELS


@lru_cache(maxsize=64)
def band_regions(height: int, width: int) -> tuple[Region, ...]:
    """The top, middle and bottom bands of a ``height`` x ``width`` map, ``(y0, y1, x0, x1)``."""
    top, middle, low = round(height * 3 / 7), round(height * 2 / 7), round(height * 4 / 7)
    high = max(middle + 1, round(height * 5 / 7))
    return ((0, max(1, top), 0, width), (middle, high, 0, width), (low, height, 0, width))


def regions_and_layout(features: torch.Tensor, levels: int) -> tuple[torch.Tensor, np.ndarray]:
    """From (n, 1280, h, w) feature maps: the R-MAC regional vectors (n, regions, 1280), the
    whole map first (as :func:`.embedder.regional_vectors`), and the layout (n, 5120), both from
    one pooling pass."""
    height, width = int(features.shape[2]), int(features.shape[3])
    squares = rmac_regions(height, width, levels)
    pooled = regional_gem(features, squares + band_regions(height, width))
    regional = pooled[:, : len(squares)]
    parts = [pooled[:, 0], *(pooled[:, len(squares) + i] for i in range(PARTS - 1))]
    layout = np.concatenate([part.numpy() for part in parts], axis=1) / np.sqrt(PARTS)
    return regional, layout.astype(np.float32)
