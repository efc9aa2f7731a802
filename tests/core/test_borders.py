# SPDX-License-Identifier: Apache-2.0
"""Letterbox and pillarbox bars are left out of the model's picture; flat content is kept."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from imgsim_desktop.core.evidence.borders import content_box
from imgsim_desktop.core.evidence.imagefile import decode_for_model


def _photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
    return np.array(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


def test_bars_on_two_opposite_sides_are_found() -> None:
    picture = np.full((300, 400, 3), 255, np.uint8)
    picture[:, 60:340] = _photo(300, 280)  # a portrait in a landscape frame: white pillars
    assert content_box(picture) == (0, 300, 60, 340)
    boxed = np.zeros((300, 400, 3), np.uint8)
    boxed[40:260] = _photo(220, 400)  # black letterbox bars
    assert content_box(boxed) == (40, 260, 0, 400)


def test_one_flat_strip_or_a_flat_picture_is_kept_whole() -> None:
    sky = _photo(300, 400)
    sky[:90] = (120, 170, 230)  # a clear sky on top only: content, not a bar
    assert content_box(sky) == (0, 300, 0, 400)
    flat = np.full((100, 100, 3), 7, np.uint8)  # nothing but bars: never cut to nothing
    assert content_box(flat) == (0, 100, 0, 100)


def _jpeg(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def test_the_model_sees_a_letterboxed_copy_as_the_picture_itself() -> None:
    picture = _photo(240, 320, seed=3)
    framed = np.full((400, 320, 3), 255, np.uint8)
    framed[80:320] = picture
    plain = decode_for_model(_jpeg(picture), 224)[2]
    seen = decode_for_model(_jpeg(framed), 224)[2]
    assert seen.shape == plain.shape
    assert np.abs(seen.astype(int) - plain.astype(int)).mean() < 6
    width, height, _ = decode_for_model(_jpeg(framed), 224)
    assert (width, height) == (320, 400)  # the file's own size is still reported
