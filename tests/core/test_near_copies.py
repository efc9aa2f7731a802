# SPDX-License-Identifier: Apache-2.0
"""Near copies by PDQ: every indexed image hashed, the query hashed in its 8 dihedral variants,
near copies flagged and ranked first, and found even where the deep vectors miss them."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from imgsim_desktop.core import open_case
from imgsim_desktop.core.model.pdq import HashMatrix, pdq_dihedral, pdq_hash
from imgsim_desktop.core.pipeline.ranking import fused_score, pdq_bonus
from imgsim_desktop.core.store.index import SceneIndexes
from tests.core.fakes import FakeEmbedder, fake_head


def _photo(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A picture with structure at several scales (PDQ needs detail to hash reliably)."""
    rng = np.random.default_rng(seed)
    layers = [
        np.asarray(Image.fromarray(rng.integers(0, 256, (s, s, 3), dtype=np.uint8)).resize(size, Image.BICUBIC), np.float32)
        for s in (4, 9, 23)
    ]  # fmt: skip
    return Image.fromarray(np.clip(sum(layers) / 3, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


ATTACKS = {
    "jpeg20": lambda im: _jpeg(im, 20),
    "down25": lambda im: im.resize((im.width // 4, im.height // 4), Image.LANCZOS),
    "rot90": lambda im: im.transpose(Image.Transpose.ROTATE_90),
    "rot180": lambda im: im.transpose(Image.Transpose.ROTATE_180),
    "flip": ImageOps.mirror,
}


@pytest.fixture
def copies_case(tmp_path: Path) -> tuple[Path, Path]:
    """A case of 40 pictures and attacked copies of picture 7; the original is the query."""
    case = tmp_path / "case"
    case.mkdir()
    for n in range(40):
        if n != 7:
            _photo(n).save(case / f"photo{n:02d}.png")
    original = _photo(7)
    for name, attack in ATTACKS.items():
        attack(original).save(case / f"{name}.png")
    query = tmp_path / "query.png"
    original.save(query)
    return case, query


def test_attacked_copies_are_flagged_near_copies_and_ranked_first(copies_case) -> None:
    case, query = copies_case
    with open_case(case, embedder=FakeEmbedder(), head=fake_head()) as opened:
        opened.index()
        result = opened.query(query, k=10, all_scenes=True)
    top = {r.path for r in result.results[: len(ATTACKS)]}
    assert top == {f"{name}.png" for name in ATTACKS}
    for r in result.results:
        if r.path in top:
            assert r.near_copy and r.pdq_distance is not None and r.pdq_distance <= 31
            assert r.score == pytest.approx(r.similarity + 1.0, abs=1e-5)
        else:
            assert not r.near_copy and (r.pdq_distance is None or r.pdq_distance > 31)
    assert all(set(r.to_json()) >= {"pdq_distance", "near_copy"} for r in result.results)


def test_near_copies_are_results_even_when_the_deep_vectors_miss_them(
    copies_case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vector indexes return nothing: the PDQ scan alone brings the copies back, scored."""
    case, query = copies_case
    with open_case(case, embedder=FakeEmbedder(), head=fake_head()) as opened:
        opened.index()
        monkeypatch.setattr(SceneIndexes, "search", lambda self, queries, scenes, k: ([], 0))
        result = opened.query(query, k=10, all_scenes=True)
    assert {r.path for r in result.results} == {f"{name}.png" for name in ATTACKS}
    assert all(r.near_copy and 0 < r.similarity <= 1.0001 for r in result.results)


def test_the_near_copy_threshold_is_a_setting(copies_case) -> None:
    case, query = copies_case
    with open_case(case, embedder=FakeEmbedder(), head=fake_head()) as opened:
        opened.index()
        strict = opened.query(query, k=10, all_scenes=True, near_copy_threshold=0)
    assert strict.settings.near_copy_threshold == 0
    assert {r.path for r in strict.results if r.near_copy} == {
        "rot90.png",
        "rot180.png",
        "flip.png",
    }


def test_hashes_dihedral_variants_and_the_scan() -> None:
    picture = np.asarray(_photo(3))
    variants, quality = pdq_dihedral(picture)
    assert quality >= 50 and len(set(variants)) == 8
    turned = pdq_hash(np.rot90(picture).copy())
    flat = pdq_hash(np.full((64, 64, 3), 128, np.uint8))
    matrix = HashMatrix(
        np.frombuffer(turned.bits + flat.bits, np.uint8).reshape(2, 32),
        np.array([turned.quality, flat.quality]),
    )
    distances = matrix.distances(variants)
    assert distances[0] <= 8  # a turned copy is one of the 8 variants, give or take rounding
    assert distances[1] == 257 and not flat.usable  # a flat picture's hash is not compared


def test_the_fusion_rule() -> None:
    assert pdq_bonus(None, 31) == 0 and pdq_bonus(0, 31) == pdq_bonus(31, 31) == 1
    assert pdq_bonus(60, 31) == pytest.approx(30 / 59) and pdq_bonus(90, 31) == 0
    assert fused_score(0.99, None, 31) < fused_score(0.5, 31, 31)  # any copy above look-alikes


def test_reports_carry_the_near_copy_verdict_in_every_format(copies_case, tmp_path: Path) -> None:
    from imgsim_desktop.core.report import ReportOptions, export_report

    case, query = copies_case
    out = tmp_path / "out"
    out.mkdir()
    with open_case(case, embedder=FakeEmbedder(), head=fake_head()) as opened:
        opened.index()
        result = opened.query(query, k=8, all_scenes=True)
        for ext in ("json", "csv", "html", "pdf", "vics.json", "jsonld"):
            export_report(opened, result, ReportOptions(), out / f"r.{ext}")
    data = json.loads((out / "r.json").read_text())
    copies = {m["path"]: m for m in data["matches"] if m["near_copy"]}
    assert set(copies) == {f"{name}.png" for name in ATTACKS}
    assert all(m["pdq_distance"] <= 31 and len(m["pdq_hash"]) == 64 for m in copies.values())
    rows = list(csv.DictReader(io.StringIO((out / "r.csv").read_text(encoding="utf-8-sig"))))
    assert {r["path"] for r in rows if r["near_copy"] == "yes"} == set(copies)
    assert (out / "r.html").read_text().count("near copy</b>") == len(copies)
    vics = json.loads((out / "r.vics.json").read_text())
    flags = [
        p["PropertyValue"]
        for media in vics["value"][0]["Media"]
        for p in media["MediaMetadata"]
        if p["PropertyName"] == "ImgSim.NearCopy"
    ]
    assert sorted(flags) == [False] * (len(flags) - len(copies)) + [True] * len(copies)
    assert "imgsim:nearCopy" in (out / "r.jsonld").read_text()


def test_a_missing_pdq_library_stops_the_run_with_one_clear_error(
    copies_case, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imgsim_desktop.core.errors import ModelError

    case, _query = copies_case
    monkeypatch.setitem(sys.modules, "pdqhash", None)
    with open_case(case, embedder=FakeEmbedder(), head=fake_head()) as opened:
        with pytest.raises(ModelError, match="'pdqhash' package"):
            opened.index()
        assert not opened.is_indexed or not list(opened.files())  # no file blamed for it
