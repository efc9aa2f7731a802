# SPDX-License-Identifier: Apache-2.0
"""Thumbnails and previews as plain RGB bytes (never Qt types): the UI turns them into images.

Decoding is :func:`imgsim_desktop.core.evidence.imagefile.open_upright`, as for the model: EXIF
orientation, JPEG draft mode (a 12-megapixel photo is reduced while it is decoded), every supported
format. Nothing is written anywhere: the disk cache is :mod:`imgsim_desktop.core.store.thumbcache`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from imgsim_desktop.core.evidence.imagefile import open_upright, read_bytes


@dataclass(frozen=True)
class Thumbnail:
    """An RGB image: ``width`` x ``height`` pixels, ``data`` row-major, 3 bytes a pixel."""

    width: int
    height: int
    data: bytes


def make_thumbnail(path: Path, max_side: int) -> Thumbnail:
    """The image at ``path``, oriented upright and fitted in ``max_side`` x ``max_side``."""
    data, _status = read_bytes(path)
    _width, _height, image = open_upright(data, max_side)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return Thumbnail(image.width, image.height, image.tobytes())


#: JPEG quality of cached and archived thumbnails.
JPEG_QUALITY = 85


def thumbnail_jpeg(path: Path, max_side: int) -> bytes:
    """The image at ``path``, upright, fitted in ``max_side`` x ``max_side``, as JPEG bytes."""
    data, _mtime = read_bytes(path)
    return jpeg_of(data, max_side)


def jpeg_of(data: bytes, max_side: int) -> bytes:
    """Image bytes made into an upright JPEG thumbnail fitted in ``max_side``."""
    _width, _height, image = open_upright(data, max_side)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
