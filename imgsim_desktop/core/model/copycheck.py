# SPDX-License-Identifier: Apache-2.0
"""Copy verification: is a candidate a copy, or a crop, of the query? By correlating pixels.

The deep vectors and PDQ cannot tell a piece cut out of the query from another photo of the same
place: both look alike, and PDQ compares whole frames. Pixels can. Every indexed image keeps a
tiny grey thumbnail (:func:`thumbnail`, longer side :data:`THUMB_SIDE`, about 3 KB); for a query's
best candidates, :func:`best_correlations` slides each thumbnail over the query's grey picture
scaled so that the thumbnail covers each fraction of :data:`FRACTIONS` of it, at every position,
and keeps the best normalised cross-correlation (Pearson's r of the thumbnail and the window under
it). A re-encoded, recoloured, downscaled or cropped-out copy correlates almost perfectly at its
true scale and position; another photo of the same place does not, because its details are
elsewhere. Both pictures are high-pass filtered first (a difference of box blurs), so flat, smooth
content such as sky cannot correlate by its low frequencies alone. The correlations of all
positions are computed at once in the Fourier domain (torch.fft), batched over candidates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import torch

#: Longer side of the stored thumbnails, in pixels.
THUMB_SIDE = 64
#: The catalogue extra that holds them.
THUMB_KIND = "thumb64"
#: Shares of the query's width or height a thumbnail is tried at (1.0: a whole copy; 0.5: a
#: crop of a quarter of the area).
FRACTIONS = (1.0, 0.84, 0.71, 0.6, 0.5)


def thumbnail(pixels: np.ndarray) -> bytes:
    """The stored form of an RGB picture's grey thumbnail: height and width (one byte each),
    then the pixels, row by row."""
    grey = _grey(pixels, THUMB_SIDE)
    return bytes(grey.shape) + grey.tobytes()


def read_thumbnail(blob: bytes) -> np.ndarray | None:
    """The (h, w) uint8 array of a stored thumbnail; None when the blob is not one."""
    if len(blob) < 2 or len(blob) != 2 + blob[0] * blob[1] or min(blob[0], blob[1]) < 4:
        return None
    return np.frombuffer(blob, np.uint8, offset=2).reshape(blob[0], blob[1])


def _grey(pixels: np.ndarray, longer: int) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(pixels)).convert("L")
    scale = longer / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.uint8)


def _box_blur(images: torch.Tensor, radius: int) -> torch.Tensor:
    import torch

    padded = torch.nn.functional.pad(images, (radius,) * 4, mode="replicate")
    return torch.nn.functional.avg_pool2d(padded, 2 * radius + 1, stride=1)


def _high_pass(images: torch.Tensor) -> torch.Tensor:
    """(n, 1, h, w) -> the same minus its blur: edges and texture, no flat gradients."""
    return _box_blur(images, 1) - _box_blur(images, 4)


def best_correlations(query: np.ndarray, thumbnails: list[np.ndarray]) -> np.ndarray:
    """For an RGB query picture and grey thumbnails, each thumbnail's best correlation with the
    query (-1 to 1) over :data:`FRACTIONS` and every position."""
    import torch

    out = np.full(len(thumbnails), -1.0, np.float32)
    if not thumbnails:
        return out
    grey = Image.fromarray(np.ascontiguousarray(query)).convert("L")
    by_shape: dict[tuple[int, int], list[int]] = {}
    for row, thumb in enumerate(thumbnails):
        by_shape.setdefault((int(thumb.shape[0]), int(thumb.shape[1])), []).append(row)
    with torch.inference_mode():
        for (height, width), rows in by_shape.items():
            templates = torch.from_numpy(np.stack([thumbnails[r] for r in rows]).astype(np.float32))
            templates = _high_pass(templates[:, None])[:, 0]
            templates = templates - templates.mean(dim=(1, 2), keepdim=True)
            templates = templates / templates.flatten(1).norm(dim=1).clamp(min=1e-6)[:, None, None]
            for fraction in FRACTIONS:
                best = _correlate(grey, templates, height, width, fraction)
                out[rows] = np.maximum(out[rows], best)
    return out


def _correlate(
    grey: Image.Image, templates: torch.Tensor, height: int, width: int, fraction: float
) -> np.ndarray:
    """Best correlation of each (normalised, zero-mean) template with the query scaled so that
    the template covers ``fraction`` of it in its limiting dimension."""
    import torch

    scale = max(height / grey.height, width / grey.width) / fraction
    rows = max(height, round(grey.height * scale))
    cols = max(width, round(grey.width * scale))
    scaled = np.asarray(grey.resize((cols, rows), Image.Resampling.BOX), np.float32)
    picture = _high_pass(torch.from_numpy(scaled)[None, None])[0, 0]
    spectrum = torch.fft.rfft2(picture)
    kernels = torch.fft.rfft2(templates, s=(rows, cols))
    product = torch.fft.irfft2(spectrum[None] * kernels.conj(), s=(rows, cols))
    sums = product[:, : rows - height + 1, : cols - width + 1]
    # Each window's energy about its own mean, from integral images of the picture.
    first = torch.nn.functional.pad(picture.cumsum(0).cumsum(1), (1, 0, 1, 0))
    second = torch.nn.functional.pad((picture * picture).cumsum(0).cumsum(1), (1, 0, 1, 0))

    def windows(integral: torch.Tensor) -> torch.Tensor:
        return (
            integral[height:, width:]
            - integral[:-height, width:]
            - integral[height:, :-width]
            + integral[:-height, :-width]
        )

    total, squares = windows(first), windows(second)
    energy = torch.sqrt((squares - total * total / (height * width)).clamp(min=1e-3))
    return (sums / energy[None]).flatten(1).amax(dim=1).numpy()
