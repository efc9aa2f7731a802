# SPDX-License-Identifier: Apache-2.0
"""End to end: the real CLI and model on the bad-input corpus, a corrupt query, a locked case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imgsim_desktop.core.paths import case_data_dir
from imgsim_desktop.core.store.locking import indexing_lock
from tests.conftest import make_readonly_copy, make_writable, manifest
from tests.core.badcorpus import build_bad_corpus
from tests.e2e.helpers import imgsim

pytestmark = pytest.mark.model


@pytest.fixture
def bad_case(tmp_path: Path):
    corpus = build_bad_corpus(tmp_path / "src")
    (tmp_path / "src" / "no_permission.jpg").chmod(0o644)  # root reads it anyway; see tests/core
    corpus.bad.discard("no_permission.jpg")
    corpus.good.add("no_permission.jpg")
    case = make_readonly_copy(tmp_path / "src", tmp_path / "case")
    yield case, corpus
    make_writable(case)


def test_bad_corpus_through_the_cli(bad_case, imgsim_home: Path) -> None:
    case, corpus = bad_case
    before = manifest(case)
    run = imgsim("index", case, "--json", home=imgsim_home)
    assert run.returncode == 0, run.stderr
    (summary,) = run.json_lines()
    failed = {f["path"]: f["error"] for f in summary["failed"]}
    assert corpus.bad <= set(failed) and all(failed.values())
    assert summary["indexed"] == len(corpus.good)
    listed = imgsim("files", case, "--json", home=imgsim_home)
    rows = {row["path"]: row for row in listed.json_lines()}
    assert rows["sub/caf\\xe9_latin1.jpg"]["status"] == "indexed"
    assert rows["sub/renamed_jpeg.dat"]["status"] == "indexed"
    for name in ("truncated.jpg", "zero.jpg", "bomb.png", "random.jpg"):
        bad = imgsim("query", case, case / name, home=imgsim_home)
        assert bad.returncode == 1, name
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
        assert name in bad.stderr and "query image" in bad.stderr
    good = imgsim(
        "query", case, case / "sub" / "renamed_jpeg.dat", "-k", "2", "--json", home=imgsim_home
    )
    assert good.returncode == 0, good.stderr
    top = good.json_lines()[0]["results"][0]
    assert top["similarity"] > 0.95  # the query is described at two scales, the file at one
    assert top["near_copy"] is True and top["pdq_distance"] == 0
    assert manifest(case) == before


def test_a_second_indexer_refuses_with_one_line(
    fixture_case: Path, imgsim_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert imgsim("index", fixture_case, home=imgsim_home).returncode == 0
    monkeypatch.setenv("IMGSIM_LOCK_WAIT", "0.5")
    with indexing_lock(case_data_dir(fixture_case) / "indexes"):
        second = imgsim("index", fixture_case, "--json", home=imgsim_home)
        query = imgsim(
            "query", fixture_case, fixture_case / "scene0_a.jpg", "--json", home=imgsim_home
        )
    assert second.returncode == 1 and len(second.stderr.strip().splitlines()) == 1
    assert "being indexed by another imgsim process" in second.stderr
    assert query.returncode == 0 and json.loads(query.stdout.splitlines()[0])["results"]
