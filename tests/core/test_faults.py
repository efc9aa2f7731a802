# SPDX-License-Identifier: Apache-2.0
"""Faults: corrupt index files, a damaged catalogue WAL, a full disk, two processes on one case."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from imgsim_desktop.core import CaseLockedError, CatalogError, StorageError, open_case
from imgsim_desktop.core.evidence.imagefile import sha256_file
from imgsim_desktop.core.store import index as index_module
from imgsim_desktop.core.store.locking import INDEX_LOCK, indexing_lock
from tests.conftest import FIXTURES, ROOT
from tests.core.fakes import FakeEmbedder, fake_head


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "case", tmp_path / "case"))


def _open(case_dir: Path, embedder: FakeEmbedder | None = None):
    return open_case(case_dir, embedder=embedder or FakeEmbedder(), head=fake_head())


def _top(case, case_dir: Path, name: str = "scene0_a.jpg") -> str:
    return case.query(case_dir / name, k=1, all_scenes=True, rotations=False).results[0].path


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage{" * 20)


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _wrong_count(path: Path) -> None:
    meta = json.loads(path.read_text())
    meta["count"] += 1
    path.write_text(json.dumps(meta))


def _foreign_ids(path: Path) -> None:
    """A valid ids file with matching checksum, but ids the catalogue does not hold there."""
    ids = np.load(path) + 100_000
    with open(path, "wb") as handle:
        np.save(handle, ids)
    meta_path = path.with_name(path.name.replace(".ids.npy", ".json"))
    meta = json.loads(meta_path.read_text())
    meta["ids_sha256"] = sha256_file(path)
    meta_path.write_text(json.dumps(meta))


DAMAGE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "truncated graph": ("*.hnsw", _truncate),
    "flipped graph byte": ("*.hnsw", _flip_a_byte),
    "truncated ids": ("*.ids.npy", _truncate),
    "garbage ids": ("*.ids.npy", _garbage),
    "garbage metadata": ("*.json", _garbage),
    "inconsistent metadata": ("*.json", _wrong_count),
    "ids not in the catalogue": ("*.ids.npy", _foreign_ids),
    "missing graph": ("*.hnsw", Path.unlink),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_is_rebuilt_from_stored_vectors(case_dir: Path, damage: str) -> None:
    pattern, hurt = DAMAGE[damage]
    embedder = FakeEmbedder()
    with _open(case_dir, embedder) as case:
        case.index()
        folder = case.data_dir / "indexes"
        damaged = sorted(folder.glob(pattern))
        assert damaged
        for path in damaged:
            hurt(path)
        calls = embedder.embedded
        assert _top(case, case_dir) == "scene0_a.jpg"
        assert embedder.embedded == calls + 1  # the query only: no image decoded again
        for scene in case.head.all_labels:  # the rebuilt files verify again
            index = index_module.SceneIndex(
                folder, scene, embedder.identity.key, embedder.identity.dim, case._indexes().params
            )
            if index.meta_path.exists():
                assert index.load() is not None, scene


def test_garbage_in_the_catalogue_wal_is_ignored(case_dir: Path) -> None:
    with _open(case_dir) as case:
        case.index()
        wal = case.catalog_path.with_name(case.catalog_path.name + "-wal")
    wal.write_bytes(b"not a write-ahead log" * 100)
    with _open(case_dir) as case:
        assert len([r for r in case.files() if r.status == "indexed"]) == 13
        assert _top(case, case_dir) == "scene0_a.jpg"


def test_a_corrupt_catalogue_is_a_clear_error(case_dir: Path) -> None:
    with _open(case_dir) as case:
        case.index()
        path = case.catalog_path
    path.write_bytes(b"garbage" * 1000)
    with _open(case_dir) as case, pytest.raises(CatalogError, match="unusable"):
        list(case.files())


def _enospc(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_while_saving_indexes_keeps_the_previous_index(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _open(case_dir) as case:
        case.index()
        folder = case.data_dir / "indexes"
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix != ".lock"}
        shutil.copy(case_dir / "scene5_a.jpg", case_dir / "new.jpg")
        monkeypatch.setattr(index_module, "_save_graph", _enospc)
        with pytest.raises(StorageError, match="No space left on device"):
            case.index()
        after = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix != ".lock"}
        assert after == before  # the previous files, no temporary left behind
        top = case.query(case_dir / "new.jpg", k=2, all_scenes=True, rotations=False).results
        assert {r.path for r in top} == {"new.jpg", "scene5_a.jpg"}  # usable meanwhile
        monkeypatch.undo()
        assert case.index().indexed == 0  # the catalogue had the file; indexes saved now
        assert {p.name for p in folder.iterdir()} >= set(before)


class _FullDisk:
    """A sqlite3 connection whose writes fail as on a full disk."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def executemany(self, *_args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name: str) -> object:
        return getattr(self._db, name)


def test_full_disk_while_writing_the_catalogue(case_dir: Path) -> None:
    with _open(case_dir) as case:
        case.index()
        catalog = case._open_catalog(create=False)
        shutil.copy(case_dir / "scene5_a.jpg", case_dir / "new.jpg")
        real = catalog._db
        catalog._db = _FullDisk(real)  # type: ignore[assignment]
        with pytest.raises(StorageError, match="disk is full"):
            case.index()
        catalog._db = real
        assert len([r for r in case.files() if r.status == "indexed"]) == 13
        assert _top(case, case_dir) == "scene0_a.jpg"
        assert case.index().indexed == 1


def test_second_indexer_refuses_with_a_clear_message(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMGSIM_LOCK_WAIT", "0.3")
    with _open(case_dir) as case:
        case.index()
        folder = case.data_dir / "indexes"
        mtimes = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")}
        with indexing_lock(folder):  # as another process indexing the case would
            started = time.monotonic()
            with pytest.raises(CaseLockedError, match=r"being indexed by another .*pid \d+"):
                case.index()
            assert time.monotonic() - started >= 0.3
            assert _top(case, case_dir) == "scene0_a.jpg"  # queries still read
        assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")} == mtimes
        assert (folder / INDEX_LOCK).is_file()
        assert not any(p.name.endswith(".lock") for p in case_dir.rglob("*"))


def test_second_indexer_waits_for_the_first_process(case_dir: Path) -> None:
    with _open(case_dir) as case:
        case.index()
        folder = case.data_dir / "indexes"
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time; from pathlib import Path\n"
                "from imgsim_desktop.core.store.locking import indexing_lock\n"
                "with indexing_lock(Path(sys.argv[1])):\n"
                "    print('locked', flush=True); time.sleep(1.5)\n",
                str(folder),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        summary = case.index()  # waits (default 10 s) instead of failing
        assert time.monotonic() - started > 0.5
        assert summary.unchanged == 13
        assert holder.wait(timeout=10) == 0


def test_loads_check_cheaply_and_verify_checks_in_full(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _open(case_dir) as case:
        case.index()
        folder = case.data_dir / "indexes"
    hashed: list[str] = []
    real = index_module.sha256_file

    def counting(path: Path) -> str:
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(index_module, "sha256_file", counting)
    with _open(case_dir) as case:  # a fresh process's first query: no full hash of any file
        assert _top(case, case_dir) == "scene0_a.jpg"
        assert hashed == []
        assert case.verify() == {"catalogue": [], "indexes": [], "audit log": []}
    saved = sorted(p.name for p in folder.glob("*") if p.suffix in (".hnsw", ".npy"))
    assert sorted(set(hashed)) == saved
    graph = sorted(folder.glob("*.hnsw"))[0]
    with open(graph, "r+b") as handle:  # damage in the middle of the graph
        stamp = graph.stat()
        handle.seek(stamp.st_size // 2)
        byte = handle.read(1)
        handle.seek(stamp.st_size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.utime(graph, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    with _open(case_dir) as case:
        assert case.verify()["indexes"] == [f"{graph.stem}: checksum mismatch"]
