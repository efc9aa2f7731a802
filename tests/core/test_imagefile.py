# SPDX-License-Identifier: Apache-2.0
"""Reading images: content sniffing, EXIF orientation, draft decoding, size limits."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from imgsim_desktop.core.errors import UnreadableImageError
from imgsim_desktop.core.evidence.imagefile import (
    MAX_ASPECT,
    decode_for_model,
    load_for_embedding,
    looks_like_image,
    sniff_format,
    target_size,
)
from tests.conftest import FIXTURES
from tests.core.badcorpus import bomb_png


def _jpeg(size: tuple[int, int], **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def test_sniffing_recognises_content_not_names(tmp_path: Path) -> None:
    assert sniff_format(_jpeg((8, 8))) == "jpeg"
    assert sniff_format(b"RIFF\0\0\0\0WEBPVP8 ") == "webp"
    assert sniff_format(b"hello world") is None
    disguised = tmp_path / "photo.dat"
    disguised.write_bytes(_jpeg((8, 8)))
    assert looks_like_image(disguised)
    text = tmp_path / "readme.txt"
    text.write_text("text")
    assert not looks_like_image(text)


def test_exif_orientation_is_applied() -> None:
    loaded = load_for_embedding(FIXTURES / "case" / "sub" / "scene3_rotated.jpg", 224)
    assert (loaded.width, loaded.height) == (320, 240)
    assert loaded.pixels.shape[:2] == (224, round(320 * 224 / 240))


def test_hash_is_of_the_file_bytes() -> None:
    path = FIXTURES / "case" / "scene0_a.jpg"
    assert load_for_embedding(path, 64).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_large_jpeg_is_drafted_and_resized() -> None:
    width, height, pixels = decode_for_model(_jpeg((4000, 3000)), 224)
    assert (width, height) == (4000, 3000)
    assert pixels.shape == (224, 299, 3) and pixels.dtype == np.uint8


def test_extreme_aspect_ratio_is_capped() -> None:
    assert target_size(1, 100000, 224) == (1, MAX_ASPECT * 224)


@pytest.mark.parametrize(
    "data,reason", [(b"", "empty"), (b"not an image at all", "^not a recognised image format$")]
)
def test_bad_bytes_raise_a_typed_error(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(data)
    with pytest.raises(UnreadableImageError, match=reason):
        load_for_embedding(path, 224)


def test_decompression_bomb_is_rejected_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid PNG (checksums right) whose header claims 50000x50000 pixels is refused before a
    single pixel is decoded."""

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(UnreadableImageError, match="decompression bomb"):
        decode_for_model(bomb_png(), 224)


def test_our_pixel_limit_holds_when_pillows_is_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another library in the process may set ``Image.MAX_IMAGE_PIXELS = None``; our limit stays."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(UnreadableImageError, match="50000x50000 pixels exceeds the limit"):
        decode_for_model(bomb_png(), 224)


def test_an_image_just_under_the_pixel_limit_is_not_refused_for_its_size() -> None:
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    width, height, _pixels = decode_for_model(buffer.getvalue(), 224)
    assert (width, height) == (1, 1)
