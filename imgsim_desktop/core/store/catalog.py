# SPDX-License-Identifier: Apache-2.0
"""The per-case SQLite catalogue: one row per file of the case, with its vector.

The catalogue is the source of truth; the HNSW indexes are derived from the vectors stored here
and can be rebuilt from them without decoding a single image. Paths are stored as raw bytes
relative to the case root (so names that are not valid UTF-8 survive) and shown with
:func:`display_path`. Every change to the set of indexed vectors bumps a generation counter that
the indexes record, so an index that is current is recognised without reading any vectors.
Every write is one transaction: a killed process leaves the last committed batch, and a write that
fails for want of disk space raises :class:`~imgsim_desktop.core.errors.StorageError` and is rolled
back. :meth:`Catalog.snapshot` gives readers one consistent view while another process writes.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgsim_desktop.core.errors import CatalogError, ImgsimError, StorageError
from imgsim_desktop.core.paths import display_path, to_relpath  # noqa: F401 (re-exported)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    relpath BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    width INTEGER,
    height INTEGER,
    scene TEXT,
    scene_confidence REAL,
    scene_probs BLOB,
    vector BLOB,
    status TEXT NOT NULL,
    error TEXT,
    indexed_at TEXT
);
CREATE INDEX IF NOT EXISTS files_scene ON files(status, scene);
"""

STATUS_INDEXED = "indexed"
STATUS_FAILED = "failed"
STATUS_NOT_IMAGE = "not_image"


@dataclass(frozen=True)
class KnownFile:
    """What the catalogue remembers of a file for change detection."""

    id: int
    size: int
    mtime_ns: int
    status: str


@dataclass(frozen=True)
class FileRow:
    """A file's row as written after an attempt to index it (vector None when it failed)."""

    relpath: bytes
    size: int
    mtime_ns: int
    status: str
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    scene: str | None = None
    scene_confidence: float | None = None
    scene_probs: np.ndarray | None = None
    vector: np.ndarray | None = None
    error: str | None = None


@dataclass(frozen=True)
class FileRecord:
    """A catalogue row as read back for listings and results."""

    id: int
    path: str
    relpath: bytes
    size: int
    mtime_ns: int
    sha256: str | None
    width: int | None
    height: int | None
    scene: str | None
    scene_confidence: float | None
    status: str
    error: str | None


_RECORD_COLUMNS = (
    "id, relpath, size, mtime_ns, sha256, width, height, scene, scene_confidence, status, error"
)


def _record(row: tuple) -> FileRecord:
    return FileRecord(row[0], display_path(row[1]), *row[1:])


def _blob(array: np.ndarray | None) -> bytes | None:
    return None if array is None else np.ascontiguousarray(array, dtype=np.float32).tobytes()


class Catalog:
    """One case's SQLite catalogue (used from one thread at a time)."""

    def __init__(self, path: Path, create: bool = False) -> None:
        self.path = path
        if not create and not path.exists():
            raise CatalogError(f"no catalogue at {path}")
        try:
            self._db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            version = self.get_meta("schema_version")
            if version is None:
                self.set_meta("schema_version", str(SCHEMA_VERSION))
            elif int(version) != SCHEMA_VERSION:
                raise CatalogError(
                    f"catalogue schema {version} is not supported (want {SCHEMA_VERSION})"
                )
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"catalogue {path} is unusable: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    # --- metadata -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        try:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        except sqlite3.OperationalError as exc:
            raise storage_error(self.path, exc) from exc

    @property
    def generation(self) -> int:
        """Bumped by every write that changes the indexed vectors."""
        return int(self.get_meta("generation") or 0)

    def _bump_generation(self) -> None:
        self.set_meta("generation", str(self.generation + 1))

    # --- writes ---------------------------------------------------------------------------
    def known_files(self) -> dict[bytes, KnownFile]:
        rows = self._db.execute("SELECT relpath, id, size, mtime_ns, status FROM files")
        return {bytes(r[0]): KnownFile(r[1], r[2], r[3], r[4]) for r in rows}

    def write_rows(self, rows: Iterable[FileRow], indexed_at: str) -> None:
        """Insert or replace rows in one transaction (one batch of indexing work)."""
        params = [
            (
                r.relpath,
                r.size,
                r.mtime_ns,
                r.sha256,
                r.width,
                r.height,
                r.scene,
                r.scene_confidence,
                _blob(r.scene_probs),
                _blob(r.vector),
                r.status,
                r.error,
                indexed_at,
            )
            for r in rows
        ]
        with self.transaction():
            # A re-indexed file gets a new id (AUTOINCREMENT never reuses one), so an index that
            # holds the old id sees it as removed and the new one as added.
            self._db.executemany("DELETE FROM files WHERE relpath = ?", [(p[0],) for p in params])
            self._db.executemany(
                """INSERT INTO files (relpath, size, mtime_ns, sha256, width, height, scene,
                       scene_confidence, scene_probs, vector, status, error, indexed_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                params,
            )
            self._bump_generation()

    def remove(self, relpaths: Iterable[bytes]) -> int:
        """Forget files that are gone from the case; returns how many rows went."""
        paths = [(p,) for p in relpaths]
        if not paths:
            return 0
        with self.transaction():
            self._db.executemany("DELETE FROM files WHERE relpath = ?", paths)
            self._bump_generation()
        return len(paths)

    def relabel(
        self, label: Callable[[np.ndarray], list[tuple[str, float, np.ndarray]]], dim: int
    ) -> int:
        """Recompute every indexed file's scene from its stored vector (no image is decoded).

        ``label`` maps (n, dim) vectors to (scene, confidence, probabilities) per row.
        """
        ids = np.fromiter(
            (
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM files WHERE status = ?", (STATUS_INDEXED,)
                )
            ),
            dtype=np.int64,
        )
        with self.transaction():
            for start in range(0, len(ids), 4096):
                chunk = ids[start : start + 4096]
                labels = label(self.vectors(chunk, dim))
                self._db.executemany(
                    "UPDATE files SET scene = ?, scene_confidence = ?, scene_probs = ? "
                    "WHERE id = ?",
                    [
                        (scene, conf, _blob(probs), int(i))
                        for i, (scene, conf, probs) in zip(chunk, labels, strict=True)
                    ],
                )
            self._bump_generation()
        return len(ids)

    def transaction(self) -> _Transaction:
        return _Transaction(self._db, self.path)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one committed state of the catalogue (a WAL read transaction)."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    # --- reads ----------------------------------------------------------------------------
    def count(self, status: str = STATUS_INDEXED) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM files WHERE status = ?", (status,)
        ).fetchone()[0]

    def scene_counts(self) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT scene, COUNT(*) FROM files WHERE status = ? GROUP BY scene ORDER BY scene",
            (STATUS_INDEXED,),
        )
        return {scene: n for scene, n in rows}

    def scene_ids(self, scene: str) -> np.ndarray:
        rows = self._db.execute(
            "SELECT id FROM files WHERE status = ? AND scene = ? ORDER BY id",
            (STATUS_INDEXED, scene),
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def vectors(self, ids: np.ndarray, dim: int) -> np.ndarray:
        """The stored vectors of ``ids``, in that order."""
        out = np.empty((len(ids), dim), dtype=np.float32)
        position = {int(i): n for n, i in enumerate(ids)}
        for start in range(0, len(ids), 900):
            chunk = [int(i) for i in ids[start : start + 900]]
            marks = ",".join("?" * len(chunk))
            for file_id, blob in self._db.execute(
                f"SELECT id, vector FROM files WHERE id IN ({marks})", chunk
            ):
                out[position[file_id]] = np.frombuffer(blob, dtype=np.float32)
        return out

    def records(self, ids: Iterable[int]) -> dict[int, FileRecord]:
        wanted = [int(i) for i in ids]
        found: dict[int, FileRecord] = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM files WHERE id IN ({marks})", chunk
            ):
                found[row[0]] = _record(row)
        return found

    def iter_records(self) -> Iterator[FileRecord]:
        yield from map(
            _record, self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM files ORDER BY relpath")
        )

    def failures(self) -> list[FileRecord]:
        rows = self._db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM files WHERE status = ? ORDER BY relpath",
            (STATUS_FAILED,),
        )
        return [_record(r) for r in rows]


def storage_error(path: Path, exc: sqlite3.Error) -> ImgsimError:
    """The typed error for a failed catalogue write (disk full, read-only or locked)."""
    message = str(exc)
    if "full" in message or "I/O" in message or "readonly" in message:
        return StorageError(
            f"cannot write the catalogue {path}: {message}; the last committed state is kept"
        )
    return CatalogError(f"catalogue {path}: {message}")


class _Transaction:
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
