# SPDX-License-Identifier: Apache-2.0
"""The per-case SQLite catalogue: one row per file of the case, its vector and extras.

The catalogue is the source of truth; the HNSW indexes are derived from the vectors stored here
and can be rebuilt from them without decoding a single image. Paths are stored as raw bytes
relative to the case root (so names that are not valid UTF-8 survive) and shown with
:func:`~imgsim_desktop.core.paths.display_path`. Every vector records the embedder that made it:
searches and indexes only ever use the vectors of one embedder, so a re-embed that stops half-way
leaves old vectors waiting, never mixed in. Every change to the searchable vectors bumps a
generation counter that the indexes record, so an index that is current is recognised without
reading any vectors. Every write is one transaction: a killed process leaves the last committed
batch, and a write that fails for want of disk space raises
:class:`~imgsim_desktop.core.errors.StorageError` and is rolled back. :meth:`Catalog.snapshot`
gives readers one consistent view while another process writes.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from imgsim_desktop.core.errors import CatalogError
from imgsim_desktop.core.store.catalog_db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Transaction,
    create_tables,
    storage_error,
)
from imgsim_desktop.core.store.catalog_reads import (
    _CHUNK,
    CatalogReads,
    _chunks,
)
from imgsim_desktop.core.store.catalog_reads import ids_digest as ids_digest  # re-exported
from imgsim_desktop.core.store.records import (
    STATUS_INDEXED,
    FileRow,
    KnownFile,
)

Labeller = Callable[[np.ndarray], list[tuple[str, float, np.ndarray]]]


def _blob(array: np.ndarray | None) -> bytes | None:
    return None if array is None else np.ascontiguousarray(array, dtype=np.float32).tobytes()


class Catalog(CatalogReads):
    """One case's SQLite catalogue (used from one thread at a time)."""

    def __init__(self, path: Path, create: bool = False, read_only: bool = False) -> None:
        """Open (or with ``create`` make) the catalogue. ``read_only`` opens an archived copy
        that never changes (a library on a read-only share): nothing is written, not even a
        lock or journal file beside it."""
        self.path = path
        self.read_only = read_only
        self._counts: dict[tuple[str, int | None], tuple[int, object]] = {}
        if not create and not path.exists():
            raise CatalogError(f"no catalogue at {path}")
        try:
            if read_only:
                uri = path.absolute().as_uri() + "?mode=ro&immutable=1"
                # An archived catalogue never changes: a cluster worker keeps it open for the
                # tasks its threads run, one at a time (see pipeline/cases/worker_archives.py).
                self._db = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
                self._check_version()
                return
            self._db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"catalogue {path} is unusable: {exc}") from exc

    def _check_version(self) -> None:
        version = int(self.get_meta("schema_version") or 0)
        if version != SCHEMA_VERSION:
            raise CatalogError(
                f"catalogue schema {version} cannot be read in place (this imgsim reads "
                f"{SCHEMA_VERSION}); archive the case again with this version"
            )

    def _migrate(self) -> None:
        has_meta = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        version = int(self.get_meta("schema_version") or 0) if has_meta else 0
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"catalogue schema {version} is newer than this imgsim understands "
                f"({SCHEMA_VERSION}); update imgsim"
            )
        with self.transaction():
            if version == 0:
                create_tables(self._db)
            else:
                for step in range(version, SCHEMA_VERSION):
                    MIGRATIONS[step](self._db)
            self.set_meta("schema_version", str(SCHEMA_VERSION))

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
        """Bumped by every write that changes the searchable vectors."""
        return int(self.get_meta("generation") or 0)

    def _bump_generation(self) -> None:
        self.set_meta("generation", str(self.generation + 1))

    def embedder_id(self, key: str, dim: int | None = None) -> int | None:
        """The id of an embedder identity; registered when ``dim`` is given, else None if new."""
        row = self._db.execute("SELECT id FROM embedders WHERE key = ?", (key,)).fetchone()
        if row is not None or dim is None:
            return None if row is None else int(row[0])
        with self.transaction():
            self._db.execute("INSERT OR IGNORE INTO embedders (key, dim) VALUES (?, ?)", (key, dim))
        return self.embedder_id(key)

    def embedder_keys(self) -> list[str]:
        """The identity keys of the embedders whose vectors the catalogue holds."""
        rows = self._db.execute(
            "SELECT key FROM embedders WHERE id IN (SELECT DISTINCT embedder_id FROM files) "
            "ORDER BY id"
        )
        return [r[0] for r in rows]

    # --- writes ---------------------------------------------------------------------------
    def known_files(self) -> dict[bytes, KnownFile]:
        rows = self._db.execute(
            "SELECT relpath, id, size, mtime_ns, status, retry, missing, embedder_id FROM files"
        )
        return {
            bytes(r[0]): KnownFile(r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]), r[7])
            for r in rows
        }

    def write_rows(
        self, rows: Iterable[FileRow], indexed_at: str, embedder_id: int | None = None
    ) -> None:
        """Insert or replace rows, with their vectors (made by ``embedder_id``) and extras, in one
        transaction (one batch of indexing work)."""
        rows = list(rows)
        with self.transaction():
            # A re-indexed file gets a new id (AUTOINCREMENT never reuses one), so an index that
            # holds the old id sees it as removed and the new one as added.
            self._delete([r.relpath for r in rows])
            for r in rows:
                cursor = self._db.execute(
                    """INSERT INTO files (relpath, size, mtime_ns, sha256, md5, sha1, width,
                           height, scene, scene_confidence, scene_probs, status, error, retry,
                           missing, embedder_id, indexed_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)""",
                    (
                        r.relpath, r.size, r.mtime_ns, r.sha256, r.md5, r.sha1, r.width,
                        r.height, r.scene, r.scene_confidence, _blob(r.scene_probs), r.status,
                        r.error, int(r.retry), None if r.vector is None else embedder_id,
                        indexed_at,
                    ),
                )  # fmt: skip
                file_id = cursor.lastrowid
                if r.vector is not None:
                    self._db.execute(
                        "INSERT INTO vectors (id, vector) VALUES (?, ?)", (file_id, _blob(r.vector))
                    )
                self._db.executemany(
                    "INSERT INTO extras (kind, id, data) VALUES (?, ?, ?)",
                    [(kind, file_id, data) for kind, data in r.extras.items()],
                )
            self._bump_generation()

    def _delete(self, relpaths: list[bytes]) -> None:
        ids: list[int] = []
        for chunk in (relpaths[i : i + _CHUNK] for i in range(0, len(relpaths), _CHUNK)):
            marks = ",".join("?" * len(chunk))
            ids += [
                r[0]
                for r in self._db.execute(f"SELECT id FROM files WHERE relpath IN ({marks})", chunk)
            ]
        for chunk_ids in _chunks(ids):
            marks = ",".join("?" * len(chunk_ids))
            self._db.execute(f"DELETE FROM vectors WHERE id IN ({marks})", chunk_ids)
            self._db.execute(f"DELETE FROM extras WHERE id IN ({marks})", chunk_ids)
            self._db.execute(f"DELETE FROM files WHERE id IN ({marks})", chunk_ids)

    def remove(self, relpaths: Iterable[bytes]) -> int:
        """Forget files that are gone from the case; returns how many rows went."""
        paths = list(relpaths)
        if not paths:
            return 0
        with self.transaction():
            self._delete(paths)
            self._bump_generation()
        return len(paths)

    def set_missing(self, relpaths: Iterable[bytes], missing: bool) -> int:
        """Flag files below an unlistable folder as missing (or clear the flag); they are kept,
        and an indexed one stays searchable."""
        params = [(int(missing), p) for p in relpaths]
        if params:
            with self.transaction():
                self._db.executemany("UPDATE files SET missing = ? WHERE relpath = ?", params)
        return len(params)

    def relabel(self, label: Labeller, embedder_id: int, dim: int) -> int:
        """Recompute the scene of every file whose vector ``embedder_id`` made, from the stored
        vector (no image is decoded). ``label`` maps (n, dim) vectors to (scene, confidence,
        probabilities) per row."""
        ids = self._ids("status = ? AND embedder_id = ?", (STATUS_INDEXED, embedder_id))
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

    def transaction(self) -> Transaction:
        return Transaction(self._db, self.path)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one committed state of the catalogue (a WAL read transaction)."""
        if self._db.in_transaction or self.read_only:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def integrity_problems(self) -> list[str]:
        """SQLite's own full check of the catalogue file (empty when it is sound)."""
        rows = [r[0] for r in self._db.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows
