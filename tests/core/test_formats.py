# SPDX-License-Identifier: Apache-2.0
"""Every image format a seized device holds, built at run time, read by content, oriented by EXIF.

Each test image is 48x24: a red left half and a blue right half. After decoding, the model input
must show that layout (or its EXIF-rotated version), whatever the container.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from imgsim_desktop.core.evidence.imagefile import (
    decode_for_model,
    load_for_embedding,
    sniff_format,
)

RED, BLUE = (220, 20, 20), (20, 20, 220)
SIDE = 24  # the model input's shorter side used here


def _picture(mode: str = "RGB") -> Image.Image:
    image = Image.new("RGB", (48, 24), RED)
    image.paste(BLUE, (24, 0, 48, 24))
    return image.convert(mode)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _heif_encoder() -> None:
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is not installed")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this libheif build has no HEVC encoder to make a test HEIC")
    pillow_heif.register_heif_opener()


def _avif_encoder() -> None:
    if not features.check("avif"):
        pytest.skip("this Pillow build has no AVIF codec to make a test AVIF")


def _assert_red_left_blue_right(pixels: np.ndarray, tolerance: int = 60) -> None:
    height, width, _ = pixels.shape
    assert width == 2 * height
    left = pixels[:, : width // 4].reshape(-1, 3).mean(axis=0)
    right = pixels[:, -width // 4 :].reshape(-1, 3).mean(axis=0)
    assert np.abs(left - RED).max() < tolerance, left
    assert np.abs(right - BLUE).max() < tolerance, right


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def _animated(fmt: str) -> bytes:
    first, second = _picture(), Image.new("RGB", (48, 24), (0, 200, 0))
    return _save(first, fmt, save_all=True, append_images=[second], duration=100, loop=0)


MAKERS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "jpeg-baseline": ("jpeg", lambda: _save(_picture(), "JPEG", quality=95)),
    "jpeg-progressive": ("jpeg", lambda: _save(_picture(), "JPEG", quality=95, progressive=True)),
    "jpeg-cmyk": ("jpeg", lambda: _save(_picture("CMYK"), "JPEG", quality=95)),
    "mpo": ("jpeg", lambda: _save(_picture(), "MPO", save_all=True, append_images=[_picture()])),
    "png-rgb": ("png", lambda: _save(_picture(), "PNG")),
    "png-palette-transparent": (
        "png",
        lambda: _save(_picture().quantize(4), "PNG", transparency=3),
    ),
    "gif-animated": ("gif", lambda: _animated("GIF")),
    "bmp": ("bmp", lambda: _save(_picture(), "BMP")),
    "tiff-multipage": ("tiff", lambda: _animated("TIFF")),
    "webp-lossless": ("webp", lambda: _save(_picture(), "WEBP", lossless=True)),
    "webp-animated": ("webp", lambda: _animated("WEBP")),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_pillow_formats_decode_to_the_first_frame(name: str) -> None:
    kind, make = MAKERS[name]
    data = make()
    assert sniff_format(data[:16]) == kind
    width, height, pixels = decode_for_model(data, SIDE)
    assert (width, height) == (48, 24)
    _assert_red_left_blue_right(pixels)


def test_png_16_bit_keeps_its_range() -> None:
    ramp = (np.linspace(0, 65535, 48, dtype=np.float64)[None, :].repeat(24, axis=0)).astype(
        np.uint16
    )
    data = _save(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    _w, _h, pixels = decode_for_model(data, SIDE)
    row = pixels[SIDE // 2, :, 0].astype(int)
    assert row[0] < 20 and row[-1] > 235  # not clipped to white
    assert np.all(np.diff(row) >= -2)  # still a ramp


def test_palette_transparency_goes_over_white() -> None:
    image = Image.new("P", (48, 24), 0)
    image.putpalette([0, 0, 0, 220, 20, 20] + [0] * 762)
    image.paste(1, (0, 0, 24, 24))
    _w, _h, pixels = decode_for_model(_save(image, "PNG", transparency=0), SIDE)
    assert pixels[:, -4:].min() > 240  # the transparent half is white, not palette black
    assert np.abs(pixels[:, :4].reshape(-1, 3).mean(axis=0) - RED).max() < 30


def test_heic_is_read_through_pillow_heif() -> None:
    _heif_encoder()
    data = _save(_picture(), "HEIF", quality=95)
    assert sniff_format(data[:16]) == "heic"
    width, height, pixels = decode_for_model(data, SIDE)
    assert (width, height) == (48, 24)
    _assert_red_left_blue_right(pixels)


def test_avif_is_read() -> None:
    _avif_encoder()
    data = _save(_picture(), "AVIF", quality=95)
    assert sniff_format(data[:16]) == "avif"
    width, height, pixels = decode_for_model(data, SIDE)
    assert (width, height) == (48, 24)
    _assert_red_left_blue_right(pixels)


ORIENTED = {
    "jpeg": lambda image, exif: _save(image, "JPEG", quality=95, exif=exif),
    "png": lambda image, exif: _save(image, "PNG", exif=exif),
    "webp": lambda image, exif: _save(image, "WEBP", lossless=True, exif=exif),
    "tiff": lambda image, exif: _save(image, "TIFF", tiffinfo={0x0112: exif[0x0112]}),
}


@pytest.mark.parametrize("fmt", [*sorted(ORIENTED), "avif"])
def test_exif_orientation_is_honoured_in_every_format(fmt: str) -> None:
    """A picture stored lying on its side with orientation 6 (rotate 90° clockwise to view)."""
    if fmt == "avif":
        _avif_encoder()
    stored = _picture().transpose(Image.Transpose.ROTATE_90)  # 24x48, as a sideways camera writes
    save = ORIENTED.get(fmt, lambda image, exif: _save(image, "AVIF", quality=95, exif=exif))
    width, height, pixels = decode_for_model(save(stored, _exif(6)), SIDE)
    assert (width, height) == (48, 24)
    _assert_red_left_blue_right(pixels)


def test_content_not_extension_decides(tmp_path: Path) -> None:
    disguised = tmp_path / "IMG_0001.dat"
    disguised.write_bytes(_save(_picture(), "PNG"))
    _assert_red_left_blue_right(load_for_embedding(disguised, SIDE).pixels)
    liar = tmp_path / "photo.jpg"
    liar.write_bytes(_save(_picture(), "WEBP", lossless=True))
    _assert_red_left_blue_right(load_for_embedding(liar, SIDE).pixels)
