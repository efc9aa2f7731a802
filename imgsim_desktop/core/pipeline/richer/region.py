# SPDX-License-Identifier: Apache-2.0
"""Region queries: a rectangle of the query image, read and resized for the model on its own.

A region is given in the image's upright pixel coordinates (after EXIF orientation, at full
resolution): ``x, y`` its top-left corner, ``w, h`` its size, as the GUI draws it and the CLI
takes it (``--region X,Y,W,H``). The crop is taken from the decoded picture at a resolution where
nothing is lost (full resolution), then resized exactly as a whole image
is, so the crop of a region and a file holding that crop are embedded (and PDQ-hashed) alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from imgsim_desktop.core.errors import QueryError, UnreadableImageError
from imgsim_desktop.core.evidence.imagefile import (
    LoadedImage,
    model_input,
    open_upright,
    read_file,
)

#: A region smaller than this (pixels, either side) is refused: nothing to recognise in it.
MIN_REGION_SIDE = 8
#: A draft size no JPEG reaches: decode at scale 1.
FULL_RESOLUTION = 1 << 20


@dataclass(frozen=True)
class Region:
    """A rectangle in upright full-resolution pixel coordinates."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> Region:
        """``"X,Y,W,H"`` (integers); raises :class:`QueryError` when malformed."""
        parts = [p.strip() for p in text.split(",")]
        try:
            x, y, w, h = (int(p) for p in parts)
        except ValueError:
            raise QueryError(f"a region is X,Y,W,H in pixels (integers), not {text!r}") from None
        if x < 0 or y < 0 or w < MIN_REGION_SIDE or h < MIN_REGION_SIDE:
            raise QueryError(
                f"region {text}: x and y must be 0 or more and w and h at least {MIN_REGION_SIDE}"
            )
        return cls(x, y, w, h)

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"

    def check_inside(self, width: int, height: int) -> None:
        """Raise :class:`QueryError` unless the region lies within a ``width`` x ``height``
        image."""
        if self.x + self.w > width or self.y + self.h > height:
            raise QueryError(
                f"region {self} lies outside the image ({width}x{height} pixels, upright)"
            )


def crop_image(data: bytes, region: Region) -> tuple[int, int, Image.Image]:
    """(full width, full height, the region's picture at full resolution) from image bytes."""
    # Decoded at full resolution (no JPEG draft): the region may be a small part of the image.
    width, height, image = open_upright(data, FULL_RESOLUTION)
    region.check_inside(width, height)
    sx, sy = image.width / width, image.height / height
    box = (
        round(region.x * sx),
        round(region.y * sy),
        max(round((region.x + region.w) * sx), round(region.x * sx) + 1),
        max(round((region.y + region.h) * sy), round(region.y * sy) + 1),
    )
    return width, height, image.crop(box)


def load_region(
    path: Path, region: Region, shorter_side: int, larger_side: int | None = None
) -> LoadedImage:
    """Read and hash the whole file, and decode only ``region`` of it for the model (also at
    ``larger_side`` when given), as a file holding that crop would be; raises
    :class:`UnreadableImageError` (the file) or :class:`QueryError` (the region)."""
    read = read_file(path)
    if not read.data:
        raise UnreadableImageError("empty file (0 bytes)")
    width, height, crop = crop_image(read.data, region)
    pixels, framed = model_input(crop, shorter_side)
    larger = model_input(crop, larger_side)[0] if larger_side else None
    return LoadedImage.of(read, width, height, pixels, larger, framed)


def upright_size(path: Path) -> tuple[int, int]:
    """The image's full-resolution size after EXIF orientation (what region coordinates are in);
    raises :class:`UnreadableImageError`."""
    width, height, _image = open_upright(read_file(path, hashes=False).data, 1)
    return width, height
