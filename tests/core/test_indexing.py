# SPDX-License-Identifier: Apache-2.0
"""Indexing a case with a fake embedder: incremental, resumable, read-only, reported failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imgsim_desktop.core import Cancelled, NotIndexedError, open_case
from imgsim_desktop.core.pipeline.ranking import fused_score
from imgsim_desktop.core.store.catalog import STATUS_INDEXED
from tests.conftest import FIXTURES, make_readonly_copy, make_writable, manifest
from tests.core.fakes import FakeEmbedder, fake_head

N_IMAGES = 13  # images under tests/fixtures/case (notes.txt is not one)


def _open(case: Path, embedder: FakeEmbedder | None = None):
    return open_case(case, embedder=embedder or FakeEmbedder(), head=fake_head())


def test_index_reports_every_image_and_leaves_the_case_untouched(fixture_case: Path) -> None:
    before = manifest(fixture_case)
    with _open(fixture_case) as case:
        summary = case.index()
        records = list(case.files())
    assert summary.indexed == N_IMAGES
    assert summary.unchanged == summary.removed == 0
    assert summary.failed == []
    assert sum(summary.scenes.values()) == N_IMAGES
    statuses = {r.path: r.status for r in records}
    assert statuses["notes.txt"] == "not_image"
    assert statuses["sub/scene3_rotated.jpg"] == STATUS_INDEXED
    rotated = next(r for r in records if r.path == "sub/scene3_rotated.jpg")
    assert (rotated.width, rotated.height) == (320, 240)  # EXIF orientation applied
    assert manifest(fixture_case) == before


def test_second_run_embeds_nothing(fixture_case: Path) -> None:
    embedder = FakeEmbedder()
    with _open(fixture_case, embedder) as case:
        case.index()
    calls = embedder.embedded
    with _open(fixture_case, embedder) as case:
        summary = case.index()
    assert (summary.indexed, summary.unchanged, summary.removed) == (0, N_IMAGES, 0)
    assert embedder.embedded == calls


def test_new_changed_and_deleted_files_are_detected(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case_dir)
    embedder = FakeEmbedder()
    with _open(case_dir, embedder) as case:
        case.index()
        (case_dir / "scene0_b.png").unlink()
        shutil.copy(case_dir / "scene1_a.jpg", case_dir / "new.jpg")
        changed = case_dir / "scene2_a.jpg"
        changed.write_bytes((case_dir / "scene4_a.jpg").read_bytes())
        embedder.embedded = 0
        summary = case.index()
        assert (summary.indexed, summary.removed, summary.unchanged) == (2, 1, N_IMAGES - 2)
        assert embedder.embedded == 2
        result = case.query(case_dir / "scene4_a.jpg", k=3, rotations=False)
        top_two = {r.path for r in result.results[:2]}
        assert top_two == {"scene4_a.jpg", "scene2_a.jpg"}
        assert "scene0_b.png" not in {
            r.path for r in case.query(case_dir / "scene0_a.jpg", k=50).results
        }


def test_cancelled_run_keeps_its_batches_and_the_next_run_resumes(
    fixture_case: Path, monkeypatch
) -> None:
    monkeypatch.setattr("imgsim_desktop.core.pipeline.indexing.BATCH_SIZE", 4)
    embedder = FakeEmbedder()
    with _open(fixture_case, embedder) as case:
        with pytest.raises(Cancelled):
            case.index(cancel=lambda: embedder.embedded >= 4)
        assert embedder.embedded == 4
        summary = case.index()
        records = [r for r in case.files() if r.status == STATUS_INDEXED]
    assert summary.unchanged == 4 and summary.indexed == N_IMAGES - 4
    assert len(records) == len({r.path for r in records}) == N_IMAGES


def test_query_before_indexing_is_a_clear_error(fixture_case: Path) -> None:
    with _open(fixture_case) as case, pytest.raises(NotIndexedError, match="not been indexed"):
        case.query(fixture_case / "scene0_a.jpg")


def test_query_finds_the_near_copy_first(fixture_case: Path) -> None:
    with _open(fixture_case) as case:
        case.index()
        for n in range(6):
            result = case.query(fixture_case / f"scene{n}_a.jpg", k=3, all_scenes=True)
            assert result.results[0].path == f"scene{n}_a.jpg"
            top = result.results[0]
            assert top.similarity == pytest.approx(1.0, abs=1e-4)
            # flat synthetic colours are too plain for PDQ (quality < 50): no distance, no bonus
            assert top.pdq_distance in (0, None) and top.near_copy == (top.pdq_distance == 0)
            expected = fused_score(top.similarity, top.pdq_distance, 31, top.copy_correlation)
            assert top.score == pytest.approx(expected, abs=1e-4)
            copy = f"scene{n}_b" + (".png" if n % 3 == 0 else ".jpg")
            # scene3 also has an upright-by-EXIF copy, which may rank before the resized one
            assert any(r.path.endswith(copy) for r in result.results[1:3])


def test_corrupt_and_non_image_files_are_reported(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(FIXTURES / "case", source)
    (source / "empty.jpg").write_bytes(b"")
    (source / "text.jpg").write_text("hello, not a jpeg")
    good = (source / "scene1_a.jpg").read_bytes()
    (source / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (source / "hidden_jpeg.dat").write_bytes(good)
    case_dir = make_readonly_copy(source, tmp_path / "case")
    try:
        with _open(case_dir) as case:
            summary = case.index()
    finally:
        make_writable(case_dir)
    failed = {f["path"]: f["error"] for f in summary.failed}
    assert set(failed) >= {"empty.jpg", "text.jpg"}
    assert "empty" in failed["empty.jpg"]
    assert summary.indexed + len(failed) == N_IMAGES + 4
    assert summary.indexed >= N_IMAGES + 1  # the JPEG named .dat is indexed by its content


def test_index_is_rebuilt_from_stored_vectors_when_corrupt(fixture_case: Path) -> None:
    embedder = FakeEmbedder()
    with _open(fixture_case, embedder) as case:
        case.index()
        graphs = list((case.data_dir / "indexes").glob("*.hnsw"))
        assert graphs
        for graph in graphs:
            graph.write_bytes(graph.read_bytes()[:100])
        calls = embedder.embedded
        result = case.query(fixture_case / "scene0_a.jpg", k=2, rotations=False, all_scenes=True)
    assert result.results[0].path == "scene0_a.jpg"
    assert embedder.embedded == calls + 1  # only the query was embedded


def test_missing_case_folder(tmp_path: Path) -> None:
    from imgsim_desktop.core import CaseNotFoundError

    with pytest.raises(CaseNotFoundError):
        open_case(tmp_path / "nope")


def test_a_new_scene_head_relabels_from_stored_vectors(fixture_case: Path) -> None:
    embedder = FakeEmbedder()
    with open_case(fixture_case, embedder=embedder, head=fake_head(threshold=0.0)) as case:
        case.index()
        assert "other" not in case.index().scenes
    calls = embedder.embedded
    with open_case(fixture_case, embedder=embedder, head=fake_head(threshold=1.01)) as case:
        summary = case.index()
    assert summary.scenes == {"other": N_IMAGES}
    assert summary.indexed == 0 and embedder.embedded == calls
