# SPDX-License-Identifier: Apache-2.0
"""Archiving a case: a self-contained folder checked against its manifest before use."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from imgsim_desktop.core import StorageError, open_case
from imgsim_desktop.core.store.cases import archive as archive_module
from imgsim_desktop.core.store.cases.archive import check_archive, list_archives
from tests.conftest import FIXTURES
from tests.core.fakes import FakeEmbedder, fake_head

N_IMAGES = 13


def _open(case: Path):
    return open_case(case, embedder=FakeEmbedder(), head=fake_head())


@pytest.fixture
def archived(tmp_path: Path):
    case_dir = tmp_path / "ev1"
    shutil.copytree(FIXTURES / "case", case_dir)
    library = tmp_path / "library"
    with _open(case_dir) as case:
        case.index()
        record = next(r for r in case.files() if r.path == "scene1_a.jpg")
        case.set_mark(record.path, record.sha256 or "", "include")
        summary = case.archive(library)
        events = case.audit.entries()
    return case_dir, library, summary, events


def test_an_archive_holds_everything_with_a_manifest(archived) -> None:
    case_dir, library, summary, events = archived
    [found] = list_archives(library)
    assert found.path == summary.path and found.root == str(case_dir)
    files = found.manifest["files"]
    assert {"catalog.sqlite", "marks.sqlite", "audit.jsonl", "thumbs.sqlite", "case.json"} <= set(
        files
    )
    assert any(name.startswith("indexes/") and name.endswith(".hnsw") for name in files)
    for name, expected in files.items():
        data = (summary.path / name).read_bytes()
        assert (
            hashlib.sha256(data).hexdigest() == expected["sha256"] and len(data) == expected["size"]
        )
    assert summary.thumbnails == summary.images == N_IMAGES
    thumbs = sqlite3.connect(found.thumbs_path).execute("SELECT COUNT(*) FROM thumbs").fetchone()
    assert thumbs == (N_IMAGES,)
    last = events[-1]
    assert last.event == "case_archived" and last.data["archive"] == str(summary.path)
    manifest = (summary.path / "manifest.json").read_bytes()
    assert last.data["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert check_archive(found) is None
    assert not [p for p in library.iterdir() if p.name.startswith(".")]  # no leftovers


def test_a_tampered_archive_is_named(archived) -> None:
    _case, library, summary, _events = archived
    [found] = list_archives(library)
    catalogue = summary.path / "catalog.sqlite"
    data = bytearray(catalogue.read_bytes())
    data[len(data) // 2] ^= 0xFF
    catalogue.write_bytes(bytes(data))
    assert check_archive(found) == "catalog.sqlite does not match its manifest (changed or damaged)"
    catalogue.write_bytes(bytes(data[: len(data) // 2]))
    assert "catalog.sqlite does not match" in (check_archive(found) or "")


def test_an_unlisted_file_is_named(archived) -> None:
    _case, library, summary, _events = archived
    (summary.path / "indexes" / "extra.hnsw").write_bytes(b"x")
    assert check_archive(list_archives(library)[0]) == "indexes/extra.hnsw is not in its manifest"


def test_a_second_check_hashes_only_what_changed(archived, monkeypatch: pytest.MonkeyPatch) -> None:
    _case, library, _summary, _events = archived
    [found] = list_archives(library)
    hashed: list[str] = []
    real = archive_module.sha256_file
    monkeypatch.setattr(archive_module, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    assert check_archive(found) is None
    assert sorted(hashed) == sorted(Path(name).name for name in found.manifest["files"])
    hashed.clear()
    assert check_archive(found) is None
    assert hashed == []  # nothing changed since the last good check
    (found.path / "audit.jsonl").touch()
    assert check_archive(found) is None and hashed == ["audit.jsonl"]


def test_rearchiving_replaces_the_archive_and_archives_never_go_inside_the_case(archived) -> None:
    case_dir, library, summary, _events = archived
    with _open(case_dir) as case:
        again = case.archive(library)
        assert again.path == summary.path
        assert len(list_archives(library)) == 1
        with pytest.raises(StorageError, match="inside the case"):
            case.archive(case_dir / "lib")
    assert json.loads((summary.path / "manifest.json").read_text())["case_id"]
