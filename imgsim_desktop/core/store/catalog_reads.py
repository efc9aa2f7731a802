# SPDX-License-Identifier: Apache-2.0
"""The catalogue's reads: counts (kept per generation), a scene's ids and their digest, vectors,
extras and file records.

A mixin of :class:`~imgsim_desktop.core.store.catalog.Catalog`, which owns the connection, the
generation and the writes; these methods only read, inside its snapshots.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from imgsim_desktop.core.paths import display_path
from imgsim_desktop.core.store.records import (
    STATUS_FAILED,
    STATUS_INDEXED,
    FileRecord,
)

_RECORD_COLUMNS = (
    "id, relpath, size, mtime_ns, sha256, md5, sha1, width, height, scene, scene_confidence, "
    "status, error, retry, missing"
)
_CHUNK = 900  # bound parameters per statement, under SQLite's limit


def _record(row: tuple) -> FileRecord:
    (file_id, relpath, size, mtime_ns, sha256, md5, sha1, width, height, scene, confidence,
     status, error, retry, missing) = row  # fmt: skip
    return FileRecord(
        file_id, display_path(relpath), bytes(relpath), size, mtime_ns, sha256, md5, sha1,
        width, height, scene, confidence, status, error, bool(retry), bool(missing),
    )  # fmt: skip


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    wanted = [int(i) for i in ids]
    for start in range(0, len(wanted), _CHUNK):
        yield wanted[start : start + _CHUNK]


T = TypeVar("T")

#: The hashed sum of :meth:`Catalog.scene_ids_digest`: each id scrambled (times a multiplier,
#: modulo a prime), squared modulo the prime so that the sum is not linear in the ids, summed.
#: Every step fits SQLite's and numpy's 64-bit integers.
DIGEST_MULTIPLIER = 48271
DIGEST_MODULUS = 2147483647


def ids_digest(ids: np.ndarray) -> tuple[int, int, int]:
    """(count, sum, hashed sum) of catalogue ids, as :meth:`Catalog.scene_ids_digest` makes it."""
    ids = ids.astype(np.int64)
    scrambled = (ids * DIGEST_MULTIPLIER) % DIGEST_MODULUS
    hashed = (scrambled * scrambled) % DIGEST_MODULUS
    return len(ids), int(ids.sum()), int(hashed.sum())


class CatalogReads:
    """The read side of :class:`~imgsim_desktop.core.store.catalog.Catalog`."""

    # Provided by Catalog.
    _db: sqlite3.Connection
    _counts: dict[tuple[str, int | None], tuple[int, object]]
    path: Path
    read_only: bool

    @property
    def generation(self) -> int:
        raise NotImplementedError

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    # --- reads ----------------------------------------------------------------------------
    def _ids(self, where: str, params: tuple) -> np.ndarray:
        rows = self._db.execute(f"SELECT id FROM files WHERE {where} ORDER BY id", params)
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def count(self, status: str = STATUS_INDEXED) -> int:
        return int(
            self._db.execute("SELECT COUNT(*) FROM files WHERE status = ?", (status,)).fetchone()[0]
        )

    def count_all(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM files").fetchone()[0])

    def count_missing(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM files WHERE missing = 1").fetchone()[0])

    def pending(self, embedder_id: int | None) -> int:
        """Indexed files whose vector another embedder made: not searched until re-embedded."""
        return self._counted(
            ("pending", embedder_id),
            lambda: int(
                self._db.execute(
                    "SELECT COUNT(*) FROM files WHERE status = ? AND embedder_id IS NOT ?",
                    (STATUS_INDEXED, embedder_id),
                ).fetchone()[0]
            ),
        )

    def scene_counts(self, embedder_id: int | None) -> dict[str, int]:
        """Searchable vectors per scene (those ``embedder_id`` made)."""

        def count() -> dict[str, int]:
            rows = self._db.execute(
                "SELECT scene, COUNT(*) FROM files WHERE status = ? AND embedder_id = ? "
                "GROUP BY scene ORDER BY scene",
                (STATUS_INDEXED, embedder_id),
            )
            return {scene: n for scene, n in rows}

        return dict(self._counted(("scenes", embedder_id), count))

    def _counted(self, key: tuple[str, int | None], count: Callable[[], T]) -> T:
        """``count()``, kept while the catalogue's generation stays the same: on a case of a
        million images each of these counts costs a query 60-90 ms, and they change only with
        the searchable vectors (every such write bumps the generation)."""
        with self.snapshot():
            generation = self.generation
            cached = self._counts.get(key)
            if cached is not None and cached[0] == generation:
                return cast(T, cached[1])
            value = count()
        self._counts[key] = (generation, value)
        return value

    def scene_ids(self, scene: str, embedder_id: int | None) -> np.ndarray:
        return self._ids(
            "status = ? AND embedder_id = ? AND scene = ?", (STATUS_INDEXED, embedder_id, scene)
        )

    def scene_ids_digest(self, scene: str, embedder_id: int | None) -> tuple[int, int, int]:
        """(count, sum, hashed sum) of :meth:`scene_ids`, computed by SQLite without reading
        the ids out: what :func:`ids_digest` gives for the same ids."""
        row = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM((id * :m % :p) * (id * :m % :p)"
            " % :p), 0) FROM files WHERE status = :status AND embedder_id = :embedder "
            "AND scene = :scene",
            {
                "m": DIGEST_MULTIPLIER,
                "p": DIGEST_MODULUS,
                "status": STATUS_INDEXED,
                "embedder": embedder_id,
                "scene": scene,
            },
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _rows_for(self, sql: str, ids: Iterable[int], *params: object) -> Iterator[Any]:
        """The rows of ``sql`` for ``ids``, a chunk at a time: ``{ids}`` in it stands for the
        chunk's placeholders, bound after ``params``."""
        for chunk in _chunks(ids):
            yield from self._db.execute(
                sql.format(ids=",".join("?" * len(chunk))), [*params, *chunk]
            )

    def vectors(self, ids: np.ndarray, dim: int) -> np.ndarray:
        """The stored vectors of ``ids``, in that order."""
        out = np.empty((len(ids), dim), dtype=np.float32)
        position = {int(i): n for n, i in enumerate(ids)}
        for file_id, blob in self._rows_for(
            "SELECT id, vector FROM vectors WHERE id IN ({ids})", ids
        ):
            out[position[file_id]] = np.frombuffer(blob, dtype=np.float32)
        return out

    def extras(self, kind: str, ids: Iterable[int] | None = None) -> dict[int, bytes]:
        """Per-file data of one kind, for ``ids`` (every file's when None)."""
        rows: Iterable[Any]
        if ids is None:
            rows = self._db.execute("SELECT id, data FROM extras WHERE kind = ?", (kind,))
        else:
            sql = "SELECT id, data FROM extras WHERE kind = ? AND id IN ({ids})"
            rows = self._rows_for(sql, ids, kind)
        return {int(i): bytes(d) for i, d in rows}

    def scene_probabilities(
        self, ids: Iterable[int], embedder_id: int | None
    ) -> dict[int, np.ndarray]:
        """The scene head's probabilities stored for ``ids`` by the embedder ``embedder_id``
        (those that have readable ones: a blob of a size no float32 array has is left out)."""
        rows = self._rows_for(
            "SELECT id, scene_probs FROM files WHERE embedder_id = ? "
            "AND scene_probs IS NOT NULL AND id IN ({ids})",
            ids,
            embedder_id,
        )
        return {
            int(i): np.frombuffer(blob, dtype=np.float32)
            for i, blob in rows
            if isinstance(blob, bytes) and blob and len(blob) % 4 == 0
        }

    def searchable_extras(
        self, kind: str, embedder_id: int | None
    ) -> tuple[np.ndarray, list[bytes]]:
        """(ids, data) of one kind of extras for every searchable file (indexed, vector made by
        ``embedder_id``), by id."""
        rows = self._db.execute(
            "SELECT e.id, e.data FROM extras e JOIN files f ON f.id = e.id "
            "WHERE e.kind = ? AND f.status = ? AND f.embedder_id = ? ORDER BY e.id",
            (kind, STATUS_INDEXED, embedder_id),
        ).fetchall()
        return np.fromiter((r[0] for r in rows), np.int64, len(rows)), [bytes(r[1]) for r in rows]

    def records(self, ids: Iterable[int]) -> dict[int, FileRecord]:
        rows = self._rows_for(f"SELECT {_RECORD_COLUMNS} FROM files WHERE id IN ({{ids}})", ids)
        return {row[0]: _record(row) for row in rows}

    def ids_by_sha256(self, digests: Iterable[str]) -> dict[str, list[int]]:
        """The indexed files holding each content (hex SHA-256), by digest (absent: none)."""
        found: dict[str, list[int]] = {}
        wanted = list(dict.fromkeys(digests))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for file_id, digest in self._db.execute(
                f"SELECT id, sha256 FROM files WHERE status = ? AND sha256 IN ({marks}) ORDER BY id",
                [STATUS_INDEXED, *chunk],
            ):
                found.setdefault(digest, []).append(int(file_id))
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

    def sample(self, count: int) -> list[FileRecord]:
        """Up to ``count`` indexed files spread evenly over the case (ordered by path): the
        case's content fingerprint."""
        total = self.count()
        if not total:
            return []
        step = max(1, total // count)
        rows = self._db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM files WHERE status = ? ORDER BY relpath",
            (STATUS_INDEXED,),
        )
        return [_record(r) for n, r in enumerate(rows) if n % step == 0][:count]
