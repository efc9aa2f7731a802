# SPDX-License-Identifier: Apache-2.0
"""End to end: VICS and CASE/UCO exports and known-file hash sets through the real CLI and model
on the fixture images."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import manifest
from tests.e2e.helpers import imgsim

pytestmark = pytest.mark.model

N_IMAGES = 13


def _digest(path: Path, algorithm: str) -> str:
    return hashlib.new(algorithm, path.read_bytes()).hexdigest()


@pytest.fixture
def indexed(fixture_case: Path, imgsim_home: Path):
    before = manifest(fixture_case)
    run = imgsim("index", fixture_case, home=imgsim_home)
    assert run.returncode == 0, run.stderr
    yield fixture_case
    assert manifest(fixture_case) == before, "the case folder changed"


def test_hash_sets_flag_and_hide_known_files(indexed: Path, imgsim_home: Path, tmp_path: Path):
    case = indexed
    images = sorted(p for p in case.rglob("*") if p.suffix in (".jpg", ".png"))
    known = {str(p.relative_to(case)) for p in images[1:6]}
    listing = tmp_path / "known.txt"
    listing.write_text("".join(_digest(case / p, "md5") + "\n" for p in sorted(known)))
    run = imgsim("hashset", "import", listing, "--name", "known-test", home=imgsim_home)
    assert run.returncode == 0, run.stderr
    assert "known-test: 5 hashes (5 MD5)" in run.stdout

    # a second set, NSRL-shaped, holding one other file by its SHA-256 only
    rds = tmp_path / "rds.db"
    db = sqlite3.connect(rds)
    db.execute("CREATE TABLE FILE (sha256, sha1, md5, file_name, file_size, package_id)")
    other = images[7]
    db.execute("INSERT INTO FILE VALUES (?, '', '', ?, 1, 1)", (_digest(other, "sha256"), "x"))
    db.commit()
    db.close()
    run = imgsim("hashset", "import", rds, "--name", "nsrl", "--format", "nsrl", home=imgsim_home)
    assert run.returncode == 0, run.stderr
    listed = imgsim("hashset", "list", "--json", home=imgsim_home).json_lines()
    assert [(s["name"], s["entries"]) for s in listed] == [("known-test", 5), ("nsrl", 1)]

    query = case / "scene0_a.jpg"
    args = ("query", case, query, "-k", str(N_IMAGES), "--all-scenes", "--json")
    (result,) = imgsim(*args, home=imgsim_home).json_lines()
    flags = {r["path"]: r["known"] for r in result["results"]}
    assert {p for p, k in flags.items() if k == "known-test"} == known
    assert flags[str(other.relative_to(case))] == "nsrl"
    assert sum(k is not None for k in flags.values()) == 6
    assert result["query"]["hash_sets"] == ["known-test", "nsrl"]

    (hidden,) = imgsim(*args, "--hide-known", home=imgsim_home).json_lines()
    assert len(hidden["results"]) == N_IMAGES - 6
    assert all(r["known"] is None for r in hidden["results"])
    assert hidden["query"]["settings"]["hide_known"] is True

    files = imgsim("files", case, "--json", home=imgsim_home).json_lines()
    assert {f["path"] for f in files if f["known"] == "known-test"} == known

    assert imgsim("hashset", "remove", "nsrl", home=imgsim_home).returncode == 0
    (again,) = imgsim(*args, home=imgsim_home).json_lines()
    assert sum(r["known"] is not None for r in again["results"]) == 5
    bad = imgsim("hashset", "remove", "nsrl", home=imgsim_home)
    assert bad.returncode == 1 and "no hash set named 'nsrl'" in bad.stderr


def test_vics_and_case_uco_reports(indexed: Path, imgsim_home: Path, tmp_path: Path) -> None:
    case = indexed
    query = case / "scene2_a.jpg"
    out = tmp_path / "out"
    out.mkdir()
    for name in ("r.vics.json", "r.jsonld"):
        run = imgsim(
            "report", case, query, "-o", out / name, "-k", "5", "--case-number", "C-7",
            "--examiner", "Bar Check", "--vics-profile", "UK", home=imgsim_home,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert (out / f"{name}.sha256").read_text() == f"{_digest(out / name, 'sha256')}  {name}\n"
    bad = imgsim("report", case, query, "-o", out / "x.vics.json", "--vics-profile", "U S",
                 home=imgsim_home)  # fmt: skip
    assert bad.returncode == 2 and "VICS profile" in bad.stderr

    doc = json.loads((out / "r.vics.json").read_bytes().decode("utf-8"))
    assert "/2.0.xml/UK/$metadata#Cases" in doc["@odata.context"]
    media = [m for c in doc["value"] for m in c["Media"]]
    by_md5 = {_digest(p, "md5").upper(): p for p in case.rglob("*") if p.is_file()}
    for m in media:
        path = by_md5[m["MD5"]]
        assert m["SHA1"] == _digest(path, "sha1").upper()
        assert type(m["MediaID"]) is int and type(m["IsPrecategorized"]) is bool
    assert len({m["MediaID"] for m in media}) == len(media) == 5  # the query is the top match

    text = (out / "r.jsonld").read_text(encoding="utf-8")
    assert _digest(query, "sha256") in text
    exe = Path(sys.executable).with_name("case_validate")
    found = str(exe) if exe.exists() else shutil.which("case_validate")
    if not found:
        pytest.skip("case_validate is not installed (pip install '.[test]' brings case-utils)")
    done = subprocess.run([found, str(out / "r.jsonld")], capture_output=True, text=True)
    assert done.returncode == 0 and "Conforms: True" in done.stdout, done.stdout[-2000:]
