# SPDX-License-Identifier: Apache-2.0
"""Copy verification by pixels: a crop cut out of the query correlates, another picture of the
same kind does not; the search gives a verified crop the copy bonus and says so."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imgsim_desktop.core import open_case
from imgsim_desktop.core.model.copycheck import (
    THUMB_SIDE,
    best_correlations,
    read_thumbnail,
    thumbnail,
)
from imgsim_desktop.core.pipeline.ranking import COPY_CORRELATION, copy_bonus
from tests.core.fakes import FakeEmbedder, fake_head

pytest.importorskip("torch")


def _photo(seed: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """Structure at several scales, like a photo."""
    rng = np.random.default_rng(seed)
    layers = [
        np.asarray(Image.fromarray(rng.integers(0, 256, (s, s, 3), dtype=np.uint8)).resize(size, Image.BICUBIC), np.float32)
        for s in (4, 9, 23, 57)
    ]  # fmt: skip
    return np.clip(sum(layers) / 4, 0, 255).astype(np.uint8)


def _jpeg(pixels: np.ndarray, quality: int = 85) -> np.ndarray:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"))


def test_a_thumbnail_round_trips_and_rejects_other_bytes() -> None:
    blob = thumbnail(_photo(1))
    thumb = read_thumbnail(blob)
    assert thumb is not None and thumb.shape == (48, THUMB_SIDE) and len(blob) == 2 + 48 * 64
    assert read_thumbnail(b"\x05\x05abc") is None and read_thumbnail(b"") is None


def test_a_crop_of_the_query_correlates_and_other_pictures_do_not() -> None:
    query = _photo(7)
    crop = _jpeg(query[40:210, 60:290])  # half the area, re-encoded
    whole = _jpeg(query, 30)
    others = [_jpeg(_photo(seed)) for seed in range(20, 30)]
    thumbs = [read_thumbnail(thumbnail(p)) for p in [crop, whole, *others]]
    values = best_correlations(query, [t for t in thumbs if t is not None])
    assert values[0] >= 0.9 and values[1] >= 0.9
    assert values[2:].max() < 0.5


def test_the_search_verifies_a_crop_and_scores_it_as_a_copy(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    for seed in range(30):
        Image.fromarray(_photo(100 + seed)).save(case_dir / f"photo{seed:02d}.png")
    query_pixels = _photo(7)
    Image.fromarray(query_pixels[30:200, 40:270]).save(case_dir / "crop.png")
    query = tmp_path / "query.png"
    Image.fromarray(query_pixels).save(query)
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head(threshold=0.0)) as case:
        case.index()
        verified = case.query(query, k=5, all_scenes=True)
        plain = case.query(query, k=31, all_scenes=True, verify_copies=False)
    top = verified.results[0]
    assert top.path == "crop.png" and top.copy_correlation is not None
    assert top.copy_correlation >= COPY_CORRELATION and not top.near_copy
    assert top.score == pytest.approx(top.similarity + copy_bonus(top.copy_correlation), abs=1e-6)
    assert copy_bonus(top.copy_correlation) > 0.5
    assert all(r.copy_correlation is None or r.copy_correlation < 0.5 for r in verified.results[1:])
    unverified = next(r for r in plain.results if r.path == "crop.png")
    assert unverified.copy_correlation is None and unverified.score < top.score


def test_the_copy_bonus_rises_from_the_threshold_to_a_perfect_correlation() -> None:
    assert copy_bonus(None) == 0.0 and copy_bonus(COPY_CORRELATION) == 0.0
    assert copy_bonus(0.5) == 0.0 and copy_bonus(1.0) == pytest.approx(1.0)
    assert copy_bonus(0.9) == pytest.approx(0.5)
