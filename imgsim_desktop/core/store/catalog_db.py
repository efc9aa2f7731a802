# SPDX-License-Identifier: Apache-2.0
"""The catalogue's SQLite plumbing: schema, migrations (one function per version step) and
transactions that turn SQLite errors into typed ones.

Version 2 (this one) splits what is scanned at every run from what is read only to search:

- ``files``: one lean row per file of the case (path as raw bytes, size, modification time,
  hashes, dimensions, scene, status, the reason it failed, whether a failure is worth retrying,
  whether the file sat below a folder the last scan could not list, and which embedder made its
  vector). Planning a run reads only this table.
- ``embedders``: every embedder identity that made a stored vector; each vector records its own,
  so a re-embed that is cancelled or killed half-way never mixes two vector spaces.
- ``vectors``: the stored descriptor of each indexed file.
- ``extras``: further per-file data written with the vector (e.g. a perceptual hash), by kind.

Migrations run in one transaction when an older catalogue is opened; a catalogue newer than this
code is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from imgsim_desktop.core.errors import CatalogError, ImgsimError, StorageError

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS embedders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    dim INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    relpath BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    md5 TEXT,
    sha1 TEXT,
    width INTEGER,
    height INTEGER,
    scene TEXT,
    scene_confidence REAL,
    scene_probs BLOB,
    status TEXT NOT NULL,
    error TEXT,
    retry INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    embedder_id INTEGER REFERENCES embedders(id),
    indexed_at TEXT
);
CREATE INDEX IF NOT EXISTS files_search ON files(status, embedder_id, scene);
CREATE TABLE IF NOT EXISTS vectors (id INTEGER PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS extras (
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (kind, id)
);
"""


def create_tables(db: sqlite3.Connection) -> None:
    """Create every table of this version that is missing (inside the caller's transaction:
    ``executescript`` would commit it)."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def _from_v1(db: sqlite3.Connection) -> None:
    """v1 kept the vector in ``files`` and one embedder key in ``meta`` for the whole case."""
    row = db.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
    db.execute("ALTER TABLE files RENAME TO files_v1")
    db.execute("DROP INDEX IF EXISTS files_scene")
    create_tables(db)
    embedder_id = None
    if row is not None:
        blob = db.execute("SELECT vector FROM files_v1 WHERE vector IS NOT NULL LIMIT 1").fetchone()
        dim = len(blob[0]) // 4 if blob else 0
        db.execute("INSERT INTO embedders (key, dim) VALUES (?, ?)", (row[0], dim))
        embedder_id = db.execute("SELECT id FROM embedders WHERE key = ?", (row[0],)).fetchone()[0]
    # Failures of v1 are retried once: v1 did not tell a passing I/O error from a bad image.
    db.execute(
        """INSERT INTO files (id, relpath, size, mtime_ns, sha256, width, height, scene,
               scene_confidence, scene_probs, status, error, retry, missing, embedder_id,
               indexed_at)
           SELECT id, relpath, size, mtime_ns, sha256, width, height, scene, scene_confidence,
               scene_probs, status, error, status = 'failed', 0,
               CASE WHEN vector IS NULL THEN NULL ELSE ? END, indexed_at
           FROM files_v1""",
        (embedder_id,),
    )
    db.execute(
        "INSERT INTO vectors (id, vector) SELECT id, vector FROM files_v1 WHERE vector IS NOT NULL"
    )
    db.execute("DROP TABLE files_v1")
    db.execute("DELETE FROM meta WHERE key = 'embedder'")


#: ``MIGRATIONS[v]`` turns a version ``v`` catalogue into version ``v + 1``.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _from_v1}


def storage_error(path: Path, exc: sqlite3.Error) -> ImgsimError:
    """The typed error for a failed catalogue write (disk full, read-only or locked)."""
    message = str(exc)
    if "full" in message or "I/O" in message or "readonly" in message:
        return StorageError(
            f"cannot write the catalogue {path}: {message}; the last committed state is kept"
        )
    return CatalogError(f"catalogue {path}: {message}")


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error) as a context manager.

    A failed write or commit is rolled back and raised as StorageError or CatalogError.
    """

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise storage_error(self._path, exc) from exc

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.OperationalError as commit_exc:
                exc = commit_exc
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError):
            raise storage_error(self._path, exc) from exc
