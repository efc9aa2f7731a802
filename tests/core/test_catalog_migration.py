# SPDX-License-Identifier: Apache-2.0
"""A catalogue written by the previous version (schema 1) is migrated in place, losing nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from imgsim_desktop.core.errors import CatalogError
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.catalog_db import SCHEMA_VERSION

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT, relpath BLOB NOT NULL UNIQUE, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, sha256 TEXT, width INTEGER, height INTEGER, scene TEXT,
    scene_confidence REAL, scene_probs BLOB, vector BLOB, status TEXT NOT NULL, error TEXT,
    indexed_at TEXT
);
CREATE INDEX files_scene ON files(status, scene);
"""


def _v1_catalogue(path: Path) -> np.ndarray:
    vectors = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("schema_version", "1"), ("embedder", "old-model:abc:8"), ("generation", "7")],
    )
    rows = [
        (5, b"a.jpg", 10, 1, "a" * 64, 4, 3, "red", 0.9, None, vectors[0].tobytes(), "indexed", None),
        (9, b"caf\xe9.jpg", 11, 2, "b" * 64, 4, 3, "blue", 0.8, None, vectors[1].tobytes(), "indexed", None),
        (12, b"bad.jpg", 12, 3, None, None, None, None, None, None, None, "failed", "cannot read file: I/O error"),
        (13, b"notes.txt", 13, 4, None, None, None, None, None, None, None, "not_image", "not an image"),
    ]  # fmt: skip
    db.executemany(
        "INSERT INTO files (id, relpath, size, mtime_ns, sha256, width, height, scene, "
        "scene_confidence, scene_probs, vector, status, error) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()
    db.close()
    return vectors


def test_a_version_1_catalogue_is_migrated_with_its_vectors_and_embedder(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    vectors = _v1_catalogue(path)
    catalog = Catalog(path)
    assert catalog.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert catalog.generation == 7  # the indexes built on it stay current
    embedder = catalog.embedder_id("old-model:abc:8")
    assert embedder is not None
    assert catalog.scene_counts(embedder) == {"blue": 1, "red": 1}
    assert np.array_equal(catalog.vectors(np.array([9, 5]), 8), vectors[::-1])
    known = catalog.known_files()
    assert known[b"caf\xe9.jpg"].embedder_id == embedder and known[b"caf\xe9.jpg"].id == 9
    assert known[b"bad.jpg"].retry  # v1 failures are given one more try
    assert not known[b"notes.txt"].retry and known[b"notes.txt"].embedder_id is None
    assert catalog.pending(catalog.embedder_id("new-model", 8)) == 2
    records = {r.path: r for r in catalog.iter_records()}
    assert records["caf\\xe9.jpg"].sha256 == "b" * 64 and records["a.jpg"].md5 is None
    catalog.close()
    Catalog(path).close()  # opening again migrates nothing


def test_a_catalogue_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    Catalog(path, create=True).set_meta("schema_version", str(SCHEMA_VERSION + 1))
    with pytest.raises(CatalogError, match="newer than this imgsim"):
        Catalog(path)
