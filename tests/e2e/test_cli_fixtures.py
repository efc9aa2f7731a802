# SPDX-License-Identifier: Apache-2.0
"""End to end: the real CLI and the real model on the small synthetic images in tests/fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import manifest
from tests.e2e.helpers import imgsim

pytestmark = pytest.mark.model

N_IMAGES = 13


@pytest.fixture
def indexed(fixture_case: Path, imgsim_home: Path):
    before = manifest(fixture_case)
    first = imgsim("index", fixture_case, "--json", home=imgsim_home)
    assert first.returncode == 0, first.stderr
    yield fixture_case, first
    assert manifest(fixture_case) == before, "the case folder changed"


def test_index_summary_contract(indexed, imgsim_home: Path) -> None:
    case, first = indexed
    (summary,) = first.json_lines()
    assert set(summary) >= {
        "case",
        "indexed",
        "unchanged",
        "removed",
        "failed",
        "scenes",
        "seconds",
    }
    assert summary["case"] == str(case)
    assert (summary["indexed"], summary["unchanged"], summary["removed"]) == (N_IMAGES, 0, 0)
    assert summary["failed"] == []
    assert sum(summary["scenes"].values()) == N_IMAGES
    second = imgsim("index", case, "--json", home=imgsim_home).json_lines()[0]
    assert (second["indexed"], second["unchanged"]) == (0, N_IMAGES)


def test_query_contract_and_ranking(indexed, imgsim_home: Path) -> None:
    case, _ = indexed
    queries = [case / "scene0_a.jpg", case / "sub" / "scene5_b.jpg"]
    run = imgsim("query", case, *queries, "-k", "3", "--json", home=imgsim_home)
    assert run.returncode == 0, run.stderr
    lines = run.json_lines()
    assert len(lines) == 2
    for line, query in zip(lines, queries, strict=True):
        assert set(line["query"]) >= {"path", "sha256", "scene", "scenes_searched"}
        assert line["query"]["path"] == str(query)
        assert len(line["results"]) == 3
        assert [r["rank"] for r in line["results"]] == [1, 2, 3]
        for result in line["results"]:
            assert set(result) >= {"rank", "path", "score", "scene", "sha256"}
            assert not result["path"].startswith("/")
        scores = [r["score"] for r in line["results"]]
        assert scores == sorted(scores, reverse=True)
    assert lines[0]["results"][0]["path"] == "scene0_a.jpg"
    assert lines[0]["results"][1]["path"] == "scene0_b.png"  # the resized, re-encoded copy
    assert {r["path"] for r in lines[1]["results"][:2]} == {"sub/scene5_b.jpg", "scene5_a.jpg"}


def test_rotated_copy_is_found(indexed, imgsim_home: Path) -> None:
    case, _ = indexed
    run = imgsim("query", case, case / "scene3_a.jpg", "-k", "4", "--json", home=imgsim_home)
    top = [r["path"] for r in run.json_lines()[0]["results"][:3]]
    assert "sub/scene3_rotated.jpg" in top


def test_files_lists_the_catalogue(indexed, imgsim_home: Path) -> None:
    case, _ = indexed
    rows = imgsim("files", case, "--json", home=imgsim_home).json_lines()
    by_path = {r["path"]: r for r in rows}
    assert len([r for r in rows if r["status"] == "indexed"]) == N_IMAGES
    assert by_path["notes.txt"]["status"] == "not_image"
    for row in rows:
        assert set(row) >= {
            "path",
            "sha256",
            "size",
            "scene",
            "scene_confidence",
            "status",
            "error",
        }


def test_expected_errors_are_one_line(
    tmp_path: Path, fixture_case: Path, imgsim_home: Path
) -> None:
    missing = imgsim("query", tmp_path / "nope", fixture_case / "scene0_a.jpg", home=imgsim_home)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "not found" in missing.stderr
    never = imgsim("query", fixture_case, fixture_case / "scene0_a.jpg", home=imgsim_home)
    assert never.returncode == 1 and "not been indexed" in never.stderr
    assert "Traceback" not in never.stderr
    usage = imgsim("query", fixture_case, home=imgsim_home)
    assert usage.returncode == 2
    assert imgsim("index", fixture_case, home=imgsim_home).returncode == 0
    bad = imgsim("query", fixture_case, fixture_case / "notes.txt", home=imgsim_home)
    assert bad.returncode == 1 and "notes.txt" in bad.stderr and "Traceback" not in bad.stderr
    absent = imgsim("query", fixture_case, tmp_path / "absent.jpg", home=imgsim_home)
    assert absent.returncode == 1 and len(absent.stderr.strip().splitlines()) == 1


def test_verify_checks_the_case_in_full(indexed, imgsim_home: Path) -> None:
    case, _ = indexed
    run = imgsim("verify", case, "--json", home=imgsim_home)
    assert run.returncode == 0, run.stderr
    assert {line["part"]: line["ok"] for line in run.json_lines()} == {
        "catalogue": True,
        "indexes": True,
        "audit log": True,
    }
    graph = next((imgsim_home / "cases").glob("*/indexes/*.hnsw"))
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph.write_bytes(bytes(data))
    run = imgsim("verify", case, "--json", home=imgsim_home)
    assert run.returncode == 1 and "damaged" in run.stderr
    assert {line["part"]: line["ok"] for line in run.json_lines()}["indexes"] is False
