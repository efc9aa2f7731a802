# SPDX-License-Identifier: Apache-2.0
"""Thumbnails and previews as plain RGB bytes (never Qt types): the UI turns them into images.

Decoding honours EXIF orientation and uses JPEG draft mode, so a 12-megapixel photo is reduced
while it is decoded. Nothing is written anywhere; callers keep their own caches.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from imgsim_desktop.core.errors import UnreadableImageError
from imgsim_desktop.core.imagefile import MAX_PIXELS, read_bytes


@dataclass(frozen=True)
class Thumbnail:
    """An RGB image: ``width`` x ``height`` pixels, ``data`` row-major, 3 bytes a pixel."""

    width: int
    height: int
    data: bytes


def make_thumbnail(path: Path, max_side: int) -> Thumbnail:
    """The image at ``path``, oriented upright and fitted in ``max_side`` x ``max_side``."""
    data, _status = read_bytes(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.size[0] * image.size[1] > MAX_PIXELS:
                raise UnreadableImageError(f"image too large: {image.size[0]}x{image.size[1]}")
            if image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except UnreadableImageError:
        raise
    except Exception as exc:  # Pillow raises many types for bad data
        raise UnreadableImageError(f"cannot make a thumbnail of {path.name}: {exc}") from exc
    return Thumbnail(image.width, image.height, image.tobytes())
