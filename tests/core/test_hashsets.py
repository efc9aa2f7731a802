# SPDX-License-Identifier: Apache-2.0
"""Known-file hash sets: every import format, the store in the user data folder, and `known` in
query results, file listings and reports (with a fake embedder)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import HashSetError
from imgsim_desktop.core.pipeline.known import known_for_records
from imgsim_desktop.core.report import ReportOptions, export_report
from imgsim_desktop.core.store.known.hashsets import (
    KnownFiles,
    hash_sets_dir,
    import_hash_set,
    list_hash_sets,
    remove_hash_set,
)
from tests.conftest import manifest
from tests.core.fakes import FakeEmbedder, fake_head

N_IMAGES = 13


def _open(case: Path):
    return open_case(case, embedder=FakeEmbedder(), head=fake_head())


def _digest(path: Path, algorithm: str) -> str:
    return hashlib.new(algorithm, path.read_bytes()).hexdigest()


def _images(case: Path) -> list[Path]:
    return sorted(p for p in case.rglob("*") if p.suffix in (".jpg", ".png"))


def test_plain_list_of_mixed_hashes_is_detected_by_length(tmp_path: Path, fixture_case: Path):
    a, b, c = _images(fixture_case)[:3]
    listing = tmp_path / "known.txt"
    listing.write_text(
        "# a comment line\n"
        f"{_digest(a, 'md5').upper()}\n"
        f"{_digest(b, 'sha1')}  some/name.jpg\n"  # sha1sum output: the first column counts
        "\n"
        f"{_digest(c, 'sha256')}\n"
        "not-a-hash\n"
    )
    info = import_hash_set(listing, "mixed")
    assert (info.name, info.format, info.entries, info.skipped) == ("mixed", "list", 3, 1)
    assert info.by_algorithm == {"md5": 1, "sha1": 1, "sha256": 1}
    assert info.source_sha256 == hashlib.sha256(listing.read_bytes()).hexdigest()
    with KnownFiles.open() as known:
        assert known.match(md5=_digest(a, "md5")) == "mixed"
        assert known.match(sha1=_digest(b, "sha1")) == "mixed"
        assert known.match(sha256=_digest(c, "sha256")) == "mixed"
        assert known.match(md5=_digest(c, "md5"), sha256=_digest(a, "sha256")) is None
    # kept per user, never in a case folder
    assert (hash_sets_dir() / "mixed.sqlite").is_file()


def test_csv_with_a_hash_column(tmp_path: Path, fixture_case: Path) -> None:
    images = _images(fixture_case)[:4]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["FileName", "Size", "SHA-1", "Comment"])
    for p in images:
        writer.writerow([p.name, p.stat().st_size, _digest(p, "sha1").upper(), "x, y"])
    source = tmp_path / "known.csv"
    source.write_text(out.getvalue())
    info = import_hash_set(source, "csv-set")
    assert (info.format, info.entries, info.by_algorithm) == ("csv", 4, {"sha1": 4})
    with KnownFiles.open() as known:
        assert all(known.match(sha1=_digest(p, "sha1")) == "csv-set" for p in images)


def _vics_media(paths: list[Path], categories: list[int | None]) -> list[dict]:
    media = []
    for n, (p, category) in enumerate(zip(paths, categories, strict=True), start=1):
        record = {"MediaID": n, "MD5": _digest(p, "md5").upper(), "IsPrecategorized": False}
        if n % 2:
            record["SHA1"] = _digest(p, "sha1").upper()
        if category is not None:
            record["Category"] = category
        media.append(record)
    return media


@pytest.mark.parametrize("shape", ["hash set", "case"])
def test_vics_json_hash_set_with_categories(tmp_path: Path, fixture_case: Path, shape: str):
    images = _images(fixture_case)[:5]
    media = _vics_media(images, [1, 2, None, 0, 1])
    base = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata"
    if shape == "hash set":
        doc = {"@odata.context": f"{base}#Media", "value": media}
    else:
        doc = {"@odata.context": f"{base}#Cases", "value": [{"CaseID": "c-1", "Media": media}]}
    source = tmp_path / "set.json"
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())  # some exporters add a BOM
    info = import_hash_set(source, "vics-set")
    assert (info.format, info.entries) == ("vics", 5)
    assert info.categories == {"0": 1, "1": 2, "2": 1, "none": 1}
    with KnownFiles.open() as known:
        for p in images:
            assert known.match(md5=_digest(p, "md5"), sha1=_digest(p, "sha1")) == "vics-set"


def _nsrl_rds(path: Path, files: list[Path]) -> None:
    """A small database shaped like NSRL RDSv3 (the FILE table and its neighbours)."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
            file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL, package_id INTEGER NOT NULL);
        CREATE TABLE PKG (package_id INTEGER, name VARCHAR, version VARCHAR);
        CREATE TABLE VERSION (version VARCHAR, build_set VARCHAR, build_date TIMESTAMP);
        INSERT INTO VERSION VALUES ('2024.03.1', 'Modern minimal', '2024-03-01');
        INSERT INTO PKG VALUES (1, 'Synthetic', '1.0');
        """
    )
    for package in (1, 2):  # the same file in two packages: one entry
        db.executemany(
            "INSERT INTO FILE VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    _digest(p, "sha256").upper(),
                    _digest(p, "sha1").upper(),
                    _digest(p, "md5").upper(),
                    p.name,
                    p.stat().st_size,
                    package,
                )
                for p in files
            ],
        )
    db.commit()
    db.close()


def test_nsrl_rds_sqlite(tmp_path: Path, fixture_case: Path) -> None:
    images = _images(fixture_case)[:6]
    rds = tmp_path / "RDS_2024.03.1_modern_minimal.db"
    _nsrl_rds(rds, images)
    info = import_hash_set(rds, "nsrl", fmt="nsrl")
    # one entry per file, its strongest digest: the catalogue has all three of every file
    assert (info.format, info.entries, info.by_algorithm) == ("nsrl", 6, {"sha256": 6})
    auto = import_hash_set(rds, "nsrl-auto")  # recognised by content
    assert auto.format == "nsrl"
    with KnownFiles.open() as known:
        for p in images:
            digests = {a: _digest(p, a) for a in ("md5", "sha1", "sha256")}
            assert known.match(**digests) == "nsrl, nsrl-auto"


def test_list_remove_names_and_refusals(tmp_path: Path) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text("d41d8cd98f00b204e9800998ecf8427e\n")
    import_hash_set(listing, "one")
    import_hash_set(listing, "two")
    assert [s.name for s in list_hash_sets()] == ["one", "two"]
    with pytest.raises(HashSetError, match="already exists"):
        import_hash_set(listing, "one")
    assert import_hash_set(listing, "one", replace=True).entries == 1
    for bad in ("", "../x", "a/b", "x" * 65, "a,b"):
        with pytest.raises(HashSetError, match="name"):
            import_hash_set(listing, bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here\n")
    with pytest.raises(HashSetError, match="no hash"):
        import_hash_set(empty, "empty")
    assert remove_hash_set("one").name == "one"
    assert [s.name for s in list_hash_sets()] == ["two"]
    with pytest.raises(HashSetError, match="no hash set named"):
        remove_hash_set("one")
    assert not list(hash_sets_dir().glob("*.importing"))


def _known_case(fixture_case: Path, tmp_path: Path) -> list[Path]:
    """Five images of the case in a hash set named ``seized-before`` (by MD5)."""
    known = _images(fixture_case)[1:6]
    listing = tmp_path / "known.txt"
    listing.write_text("".join(_digest(p, "md5") + "\n" for p in known))
    import_hash_set(listing, "seized-before")
    return known


def test_query_results_carry_known_and_hide_known_drops_them(fixture_case: Path, tmp_path):
    known = {str(p.relative_to(fixture_case)) for p in _known_case(fixture_case, tmp_path)}
    before = manifest(fixture_case)
    with _open(fixture_case) as case:
        case.index()
        query = fixture_case / "scene0_a.jpg"
        result = case.query(query, k=N_IMAGES, all_scenes=True)
        assert {r.path for r in result.results if r.known == "seized-before"} == known
        assert all(r.known is None for r in result.results if r.path not in known)
        assert {r["path"] for r in result.to_json()["results"] if r["known"]} == known
        assert result.to_json()["query"]["hash_sets"] == ["seized-before"]

        hidden = case.query(query, k=N_IMAGES, all_scenes=True, hide_known=True)
        assert not {r.path for r in hidden.results} & known
        assert len(hidden.results) == N_IMAGES - len(known)
        assert [r.rank for r in hidden.results] == list(range(1, len(hidden.results) + 1))
        assert hidden.settings.hide_known and hidden.settings.k == N_IMAGES

        # k results are still returned when enough unknown files exist
        few = case.query(query, k=4, all_scenes=True, hide_known=True)
        assert len(few.results) == 4 and not {r.path for r in few.results} & known

        listed = known_for_records(list(case.files()))
        assert {r.path for r in case.files() if listed.get(r.id)} == known
    assert manifest(fixture_case) == before


def test_reports_carry_known(fixture_case: Path, tmp_path: Path) -> None:
    known = {str(p.relative_to(fixture_case)) for p in _known_case(fixture_case, tmp_path)}
    out = tmp_path / "out"
    out.mkdir()
    with _open(fixture_case) as case:
        case.index()
        result = case.query(fixture_case / "scene0_a.jpg", k=N_IMAGES, all_scenes=True)
        for ext in ("json", "csv", "html"):
            export_report(case, result, ReportOptions(), out / f"r.{ext}")
    report = json.loads((out / "r.json").read_text())
    assert {m["path"] for m in report["matches"] if m["known"] == "seized-before"} == known
    assert report["query_known"] is None
    assert [s["name"] for s in report["hash_sets"]] == ["seized-before"]
    rows = list(csv.DictReader(io.StringIO((out / "r.csv").read_text(encoding="utf-8-sig"))))
    assert {r["path"] for r in rows if r["known"] == "seized-before"} == known
    assert all(len(r["sha1"]) == 40 for r in rows)
    html = (out / "r.html").read_text()
    assert html.count("known: seized-before") == len(known)
