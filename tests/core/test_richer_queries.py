# SPDX-License-Identifier: Apache-2.0
"""Richer queries with a fake embedder: a region, several images (all/any), negative examples
(Rocchio feedback), feedback from the examiner's marks, saved searches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import QueryError
from imgsim_desktop.core.pipeline.richer.combine import Combine
from imgsim_desktop.core.pipeline.richer.composite import QuerySpec
from imgsim_desktop.core.pipeline.richer.feedback import rocchio
from imgsim_desktop.core.pipeline.richer.region import Region
from imgsim_desktop.core.report import ReportOptions, build_report
from tests.conftest import manifest
from tests.core.fakes import FakeEmbedder, fake_head

BOX = Region(40, 30, 176, 132)


def photo(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A picture with structure at several scales (PDQ needs detail to hash reliably)."""
    rng = np.random.default_rng(seed)
    layers = [
        np.asarray(Image.fromarray(rng.integers(0, 256, (s, s, 3), dtype=np.uint8)).resize(size, Image.BICUBIC), np.float32)
        for s in (3, 7, 19)
    ]  # fmt: skip
    return Image.fromarray(np.clip(sum(layers) / 3, 0, 255).astype(np.uint8))


def blend(a: Image.Image, b: Image.Image) -> Image.Image:
    mixed = (np.asarray(a, np.float32) + np.asarray(b, np.float32)) / 2
    return Image.fromarray(mixed.astype(np.uint8))


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    """40 pictures; the crop of picture 100's region; pictures 200 and 201, their blend and a
    slightly changed copy of each; pictures 300 and 301 and a look-alike of each."""
    case = tmp_path / "case"
    case.mkdir()
    for n in range(40):
        photo(n).save(case / f"photo{n:02d}.png")
    whole = photo(100)
    whole.crop((BOX.x, BOX.y, BOX.x + BOX.w, BOX.y + BOX.h)).save(case / "crop.png")
    a, b = photo(200), photo(201)
    blend(a, b).save(case / "blend.png")
    a.rotate(3).save(case / "a_copy.png")
    b.rotate(3).save(case / "b_copy.png")
    for n in (300, 301):
        base = photo(n)
        base.save(case / f"look{n}.png")
        base.rotate(6).save(case / f"look{n}_alike.png")
    queries = tmp_path / "queries"
    queries.mkdir()
    whole.save(queries / "whole.png")
    a.save(queries / "a.png")
    b.save(queries / "b.png")
    return case


def _open(case: Path):
    return open_case(case, embedder=FakeEmbedder(), head=fake_head())


def _paths(result) -> list[str]:
    return [r.path for r in result.results]


def test_a_region_finds_the_crop_of_that_region_first_and_is_recorded(case_dir: Path) -> None:
    query = case_dir.parent / "queries" / "whole.png"
    before = manifest(case_dir)
    with _open(case_dir) as case:
        case.index()
        result = case.query(query, k=5, all_scenes=True, region=BOX)
        assert result.results[0].path == "crop.png"
        assert result.results[0].near_copy  # PDQ hashed on the region, too
        whole = case.query(query, k=5, all_scenes=True)
        assert not whole.results[0].near_copy
        assert result.settings.region == (40, 30, 176, 132)
        block = result.to_json()["query"]
        assert json.loads(json.dumps(block))["settings"]["region"] == [40, 30, 176, 132]
        assert block["examples"] == [
            {
                "role": "query",
                "path": str(query),
                "sha256": result.query_sha256,
                "region": BOX.as_list(),
            }
        ]
        logged = [e.data for e in case.audit.entries() if e.event == "query"]
        assert logged[-2]["settings"]["region"] == [40, 30, 176, 132]
        report = build_report(case, result, ReportOptions())
        assert report.settings["region"] == (40, 30, 176, 132)
    assert manifest(case_dir) == before


def test_a_region_outside_the_image_or_malformed_is_a_query_error(case_dir: Path) -> None:
    with _open(case_dir) as case:
        case.index()
        with pytest.raises(QueryError, match="outside the image"):
            case.query(case_dir.parent / "queries" / "whole.png", region=Region(300, 0, 100, 100))
    for text in ("1,2,3", "a,b,c,d", "0,0,2,2", "-1,0,50,50"):
        with pytest.raises(QueryError):
            Region.parse(text)
    assert Region.parse(" 5, 6,70,80") == Region(5, 6, 70, 80)


def test_combine_all_is_one_ranking_led_by_what_the_images_share(case_dir: Path) -> None:
    queries = case_dir.parent / "queries"
    spec = QuerySpec((str(queries / "a.png"), str(queries / "b.png")), combine=Combine.ALL)
    with _open(case_dir) as case:
        case.index()
        both = case.query_spec(spec, k=10, all_scenes=True)
        alone = case.query(queries / "a.png", k=10, all_scenes=True)
        b_alone = case.query(queries / "b.png", k=10, all_scenes=True)
        combined_report = build_report(case, both, ReportOptions())
        plain_report = build_report(case, alone, ReportOptions())
    assert "ranked by diffusion" in combined_report.selection  # its scores need not fall
    assert "diffusion" not in plain_report.selection
    others = [p for p in _paths(both) if p not in ("a_copy.png", "b_copy.png")]
    assert others[0] == "blend.png"
    assert _paths(alone)[0] == "a_copy.png" and "blend.png" in _paths(alone)
    assert both.settings.combine == "all"
    assert [e["role"] for e in both.to_json()["query"]["examples"]] == ["query", "query"]
    # each candidate keeps the closest PDQ distance and the near-copy flag either image gave it
    combined = {r.path: r for r in both.results}
    for path in ("a_copy.png", "b_copy.png"):
        given = [r for part in (alone, b_alone) for r in part.results if r.path == path]
        distances = [r.pdq_distance for r in given if r.pdq_distance is not None]
        assert combined[path].pdq_distance == min(distances)
        assert combined[path].near_copy == any(r.near_copy for r in given)


def test_combine_all_keeps_the_near_copy_one_image_found(case_dir: Path) -> None:
    """A copy of b is a near copy for b's own search, not for a's: the combined list keeps
    b's flag and its PDQ distance, whichever image's record it carries."""
    queries = case_dir.parent / "queries"
    Image.open(queries / "b.png").save(case_dir / "b_same.png")
    spec = QuerySpec((str(queries / "a.png"), str(queries / "b.png")), combine=Combine.ALL)
    with _open(case_dir) as case:
        case.index()
        both = case.query_spec(spec, k=10, all_scenes=True)
        a_alone = case.query(queries / "a.png", k=50, all_scenes=True)
        b_alone = case.query(queries / "b.png", k=10, all_scenes=True)
    by_a = {r.path: r for r in a_alone.results}
    by_b = {r.path: r for r in b_alone.results}
    combined = {r.path: r for r in both.results}
    assert by_b["b_same.png"].near_copy and by_b["b_same.png"].pdq_distance == 0
    assert "b_same.png" not in by_a or not by_a["b_same.png"].near_copy
    assert combined["b_same.png"].near_copy and combined["b_same.png"].pdq_distance == 0


def test_combine_any_keeps_each_candidates_best_score(case_dir: Path) -> None:
    queries = case_dir.parent / "queries"
    spec = QuerySpec((str(queries / "a.png"), str(queries / "b.png")), combine=Combine.ANY)
    with _open(case_dir) as case:
        case.index()
        anyof = case.query_spec(spec, k=8, all_scenes=True)
        a = case.query(queries / "a.png", k=8, all_scenes=True)
        b = case.query(queries / "b.png", k=8, all_scenes=True)
    assert set(_paths(anyof)[:2]) == {"a_copy.png", "b_copy.png"}
    assert [r.rank for r in anyof.results] == list(range(1, 9))
    assert len(set(_paths(anyof))) == 8
    best = {r.path: r.score for r in a.results}
    for r in b.results:
        best[r.path] = max(best.get(r.path, -9.0), r.score)
    expected = sorted(best.items(), key=lambda item: -item[1])[:8]
    assert [(r.path, round(r.score, 5)) for r in anyof.results] == [
        (p, round(s, 5)) for p, s in expected
    ]


def test_several_images_need_a_combine_mode(case_dir: Path) -> None:
    with pytest.raises(QueryError, match="combine"):
        QuerySpec(("a.png", "b.png")).check()


def test_rocchio_moves_every_view_away_from_negatives_and_towards_positives() -> None:
    rng = np.random.default_rng(1)
    views = rng.normal(size=(4, 16)).astype(np.float32)
    views /= np.linalg.norm(views, axis=1, keepdims=True)
    negative = rng.normal(size=(1, 16)).astype(np.float32)
    negative /= np.linalg.norm(negative)
    positive = rng.normal(size=(1, 16)).astype(np.float32)
    positive /= np.linalg.norm(positive)
    moved = rocchio(views, positive, negative)
    assert np.allclose(np.linalg.norm(moved, axis=1), 1.0, atol=1e-5)
    assert np.all(moved @ negative[0] < views @ negative[0])
    assert np.all(moved @ positive[0] > views @ positive[0])
    assert np.allclose(rocchio(views, positive[:0], negative[:0]), views, atol=1e-6)


def test_a_negative_example_pushes_down_its_look_alikes_not_only_itself(case_dir: Path) -> None:
    with _open(case_dir) as case:
        case.index()
        query = case_dir / "look300.png"
        before = _paths(case.query(query, k=50, all_scenes=True))
        negative = case_dir / "look301.png"
        after_result = case.query(query, k=50, all_scenes=True, negatives=(str(negative),))
        after = _paths(after_result)
    for name in ("look301.png", "look301_alike.png"):
        assert after.index(name) > before.index(name), name
    assert after_result.settings.negatives == (str(negative),)
    assert {"role": "negative", "path": str(negative)}.items() <= after_result.examples[1].items()


def test_marks_give_the_feedback_examples(case_dir: Path) -> None:
    with _open(case_dir) as case:
        case.index()
        result = case.query(case_dir / "look300.png", k=50, all_scenes=True)
        by_path = {r.path: r for r in result.results}
        case.set_mark("look301.png", by_path["look301.png"].sha256, "not_relevant")
        case.set_mark("photo03.png", by_path["photo03.png"].sha256, "include")
        positives, negatives = case.feedback_ids()
        assert positives == (by_path["photo03.png"].id,)
        assert negatives == (by_path["look301.png"].id,)
        spec = QuerySpec((str(case_dir / "look300.png"),), negative_ids=negatives)
        learned = case.query_spec(spec, k=50, all_scenes=True)
    assert _paths(learned).index("look301_alike.png") > _paths(result).index("look301_alike.png")
    assert learned.examples[1]["marked"] is True


def test_saved_searches_are_kept_listed_and_rerun_after_reindexing(case_dir: Path) -> None:
    queries = case_dir.parent / "queries"
    spec = QuerySpec((str(queries / "whole.png"),), region=BOX, negatives=(str(queries / "a.png"),))
    before = manifest(case_dir)
    with _open(case_dir) as case:
        case.index()
        saved = case.save_search("crop hunt", images=spec, options={"k": 3, "all_scenes": True})
        assert saved.saved_utc
        assert [s.name for s in case.searches.list()] == ["crop hunt"]
        assert (
            json.loads((case.data_dir / "searches.json").read_text())["searches"][0]["query"][
                "region"
            ]
            == BOX.as_list()
        )
        first = case.run_saved_search("crop hunt")
    assert manifest(case_dir) == before
    case_dir.chmod(0o755)
    photo(100).crop((BOX.x, BOX.y, BOX.x + BOX.w, BOX.y + BOX.h)).rotate(2).save(
        case_dir / "crop_again.png"
    )
    with _open(case_dir) as case:
        case.index()
        again = case.run_saved_search("crop hunt")
        with pytest.raises(QueryError, match="no saved search"):
            case.run_saved_search("nothing")
        events = [e.event for e in case.audit.entries()]
        case.searches.remove("crop hunt")
        assert case.searches.list() == []
    assert _paths(first)[0] == "crop.png" and len(first.results) == 3
    assert "crop_again.png" in _paths(again)
    assert again.saved_search == "crop hunt" and again.settings.region == (40, 30, 176, 132)
    assert again.to_json()["query"]["saved_search"] == "crop hunt"
    assert "search_saved" in events


def test_a_saved_search_name_is_checked() -> None:
    from imgsim_desktop.core.store.work.saved_searches import SavedSearch, SavedSearches, SearchKind

    with pytest.raises(QueryError, match="name"):
        SavedSearches(Path("/nonexistent")).save(SavedSearch("a/b", SearchKind.WORD, {}))


def test_combine_all_reads_each_candidates_mean_similarity_and_ranks_by_diffusion(
    case_dir: Path,
) -> None:
    queries = case_dir.parent / "queries"
    spec = QuerySpec((str(queries / "a.png"), str(queries / "b.png")), combine=Combine.ALL)
    with _open(case_dir) as case:
        case.index()
        both = case.query_spec(spec, k=60, all_scenes=True)
        a = {
            r.path: r.similarity
            for r in case.query(queries / "a.png", k=60, all_scenes=True).results
        }
        b = {
            r.path: r.similarity
            for r in case.query(queries / "b.png", k=60, all_scenes=True).results
        }
    assert len(both.results) == 48  # every image of the case
    checked = [r for r in both.results if r.path in a and r.path in b]
    assert len(checked) == 48
    for r in checked:
        assert r.similarity == pytest.approx((a[r.path] + b[r.path]) / 2, abs=1e-5), r.path
        assert r.score >= r.similarity - 1e-6  # the similarity plus a near-copy bonus, or not
