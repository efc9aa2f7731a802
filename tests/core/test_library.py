# SPDX-License-Identifier: Apache-2.0
"""Search across cases: two cases rank as one case holding both; archived cases answer without
app data or evidence; a tampered archive is named and skipped; a case from another model too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imgsim_desktop.core import open_case
from imgsim_desktop.core.pipeline.cases.library import (
    archived_thumbnail,
    open_sources,
    search_cases,
)
from imgsim_desktop.core.pipeline.query import QuerySettings
from tests.conftest import FIXTURES
from tests.core.fakes import FakeEmbedder, fake_head
from tests.core.test_kill import _make_files

SETTINGS = QuerySettings(k=15, all_scenes=True)


@pytest.fixture
def cases(tmp_path: Path) -> dict[str, Path]:
    """Case A (the fixtures), case B (generated pictures) and case AB holding both, indexed."""
    a, b, ab = tmp_path / "A", tmp_path / "B", tmp_path / "AB"
    shutil.copytree(FIXTURES / "case", a)
    _make_files(b, range(30))
    shutil.copytree(a, ab / "A")
    shutil.copytree(b, ab / "B")
    for folder in (a, b, ab):
        with open_case(folder, embedder=FakeEmbedder(), head=fake_head()) as case:
            case.index()
    return {"A": a, "B": b, "AB": ab}


def _ranking(result) -> list[tuple[str, float]]:
    return [(r.path.split("/")[-1], round(r.score, 5)) for r in result.results]


def _query_ab(cases: dict[str, Path], image: Path) -> list[tuple[str, float]]:
    with open_case(cases["AB"], embedder=FakeEmbedder(), head=fake_head()) as case:
        return _ranking(case.query(image, k=SETTINGS.k, all_scenes=True))


def test_two_cases_rank_as_one_case_holding_both(cases: dict[str, Path]) -> None:
    images = [cases["A"] / "scene0_a.jpg", cases["B"] / "dir4" / "img0004.png"]
    embedder = FakeEmbedder()
    sources = open_sources(embedder, [str(cases["A"]), str(cases["B"])])
    results = list(search_cases(images, sources, embedder, fake_head(), SETTINGS))
    sources.close()
    assert embedder.embedded == 4 * len(images)  # each query embedded once (4 turns), not per case
    for image, result in zip(images, results, strict=True):
        assert _ranking(result) == _query_ab(cases, image)
        assert {r.case for r in result.results} == {str(cases["A"]), str(cases["B"])}
        assert len(result.cases_searched or []) == 2 and result.cases_skipped == []


def test_archived_cases_answer_without_app_data_or_evidence(
    cases: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = tmp_path / "library"
    for name in ("A", "B"):
        with open_case(cases[name], embedder=FakeEmbedder(), head=fake_head()) as case:
            case.archive(library)
    query = tmp_path / "query.jpg"
    shutil.copy(cases["A"] / "scene0_a.jpg", query)
    expected = _query_ab(cases, query)
    for name in ("A", "B"):
        cases[name].rename(cases[name].with_name(name + ".away"))  # the evidence is unmounted
    monkeypatch.setenv("IMGSIM_HOME", str(tmp_path / "empty-home"))
    library.chmod(0o555)  # a read-only share: nothing may be written there
    embedder = FakeEmbedder()
    sources = open_sources(embedder, [], [library])
    [result] = search_cases([query], sources, embedder, fake_head(), SETTINGS)
    sources.close()
    library.chmod(0o755)
    assert _ranking(result) == expected and result.cases_skipped == []
    top = result.results[0]
    assert archived_thumbnail(sources.archives[top.case_id or ""], top.sha256 or "")
    assert not (tmp_path / "empty-home" / "cases").exists()


def test_a_tampered_archive_is_skipped_and_named(cases: dict[str, Path], tmp_path: Path) -> None:
    library = tmp_path / "library"
    for name in ("A", "B"):
        with open_case(cases[name], embedder=FakeEmbedder(), head=fake_head()) as case:
            case.archive(library)
    victim = next(library.glob("B-*")) / "catalog.sqlite"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    embedder = FakeEmbedder()
    sources = open_sources(embedder, [], [library])
    [result] = search_cases([cases["A"] / "scene0_a.jpg"], sources, embedder, fake_head(), SETTINGS)
    sources.close()
    [skipped] = result.cases_skipped or []
    assert skipped["case"] == str(victim.parent)
    assert "catalog.sqlite does not match its manifest" in skipped["reason"]
    assert result.results and {r.case for r in result.results} == {str(cases["A"])}


def test_a_case_embedded_with_another_model_is_skipped(cases: dict[str, Path]) -> None:
    other = FakeEmbedder("-other")
    sources = open_sources(other, [str(cases["A"]), "no-such-case"])
    assert sources.searched == []
    assert sorted(s["reason"] for s in sources.skipped) == [
        "its images were embedded with another model (run imgsim index)",
        "no indexed case by that folder or id",
    ]


def test_the_pixel_check_sees_the_candidates_one_case_holding_both_would(
    cases: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from imgsim_desktop.core.pipeline import candidates as candidates_module
    from imgsim_desktop.core.pipeline.ranking import VERIFIED_CANDIDATES

    checked: list[int] = []
    real = candidates_module.best_correlations

    def counting(picture, thumbs):  # type: ignore[no-untyped-def]
        checked.append(len(thumbs))
        return real(picture, thumbs)

    monkeypatch.setattr(candidates_module, "best_correlations", counting)
    image = cases["A"] / "scene0_a.jpg"
    embedder = FakeEmbedder()
    sources = open_sources(embedder, [str(cases["A"]), str(cases["B"])])
    (result,) = search_cases([image], sources, embedder, fake_head(), SETTINGS)
    sources.close()
    # one verification over both cases' best candidates, not one per case
    assert checked == [VERIFIED_CANDIDATES]
    with open_case(cases["AB"], embedder=FakeEmbedder(), head=fake_head()) as case:
        alone = case.query(image, k=SETTINGS.k, all_scenes=True)
    assert {r.path.split("/")[-1] for r in result.results if r.copy_correlation is not None} == {
        r.path.split("/")[-1] for r in alone.results if r.copy_correlation is not None
    }
