# SPDX-License-Identifier: Apache-2.0
"""The examiner's marks and notes on a case's files, kept in the case's app data folder.

A mark is ``include`` (goes into a "marked only" report) or ``not_relevant``; a note is free
text. Both are keyed by the file's path relative to the case and its SHA-256, so a mark made on
one version of a file does not silently carry over to a changed file with the same name. They live
in a small SQLite file beside the catalogue (``marks.sqlite``), never in the case folder; who set
them and when is kept with them and in the audit log (see :class:`imgsim_desktop.core.case.Case`).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from imgsim_desktop.core.errors import MarkError
from imgsim_desktop.core.paths import ensure_dir
from imgsim_desktop.core.store.work.audit import os_user, utc_now

MARKS_FILE = "marks.sqlite"
MARK_INCLUDE = "include"
MARK_NOT_RELEVANT = "not_relevant"
MARKS = (MARK_INCLUDE, MARK_NOT_RELEVANT)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS marks (
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    mark TEXT,
    note TEXT,
    updated_utc TEXT NOT NULL,
    user TEXT NOT NULL,
    PRIMARY KEY (path, sha256)
);
"""


@dataclass(frozen=True)
class Mark:
    """The examiner's mark and note on one version of one file.

    Attributes:
        path: the file's path relative to the case ('/' separated, as in query results).
        sha256: the SHA-256 of the file version the mark is about.
        mark: ``include``, ``not_relevant`` or None.
        note: free text or None.
        updated_utc: when the mark or note last changed.
        user: the OS user who changed it.
    """

    path: str
    sha256: str
    mark: str | None
    note: str | None
    updated_utc: str
    user: str


class MarkStore:
    """Marks and notes of one case (opened lazily; safe to call from several threads, e.g. the
    GUI thread marking while a worker builds a report)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            ensure_dir(self.path.parent)
            try:
                self._db = sqlite3.connect(
                    self.path, timeout=30.0, isolation_level=None, check_same_thread=False
                )
                self._db.executescript(_SCHEMA)
            except sqlite3.DatabaseError as exc:
                raise MarkError(f"the marks file {self.path} is unusable: {exc}") from exc
        return self._db

    def get(self, path: str, sha256: str) -> Mark | None:
        """The mark on this version of the file, or None."""
        if not self.path.exists():
            return None
        with self._lock:
            row = (
                self._conn()
                .execute(
                    "SELECT path, sha256, mark, note, updated_utc, user FROM marks "
                    "WHERE path = ? AND sha256 = ?",
                    (path, sha256),
                )
                .fetchone()
            )
        return None if row is None else Mark(*row)

    def all(self) -> dict[tuple[str, str], Mark]:
        """Every mark, keyed by (path, sha256)."""
        if not self.path.exists():
            return {}
        with self._lock:
            rows = self._conn().execute(
                "SELECT path, sha256, mark, note, updated_utc, user FROM marks ORDER BY path"
            )
            return {(r[0], r[1]): Mark(*r) for r in rows}

    def set(self, path: str, sha256: str, *, mark: str | None, note: str | None) -> Mark:
        """Store (or clear, when both are None) the mark and note of one file version."""
        if mark is not None and mark not in MARKS:
            raise MarkError(f"unknown mark {mark!r} (use one of {', '.join(MARKS)})")
        if not path or path.startswith("/") or ".." in path.split("/"):
            raise MarkError(f"a mark needs a path relative to the case, not {path!r}")
        if not _SHA256.fullmatch(sha256 or ""):
            raise MarkError(f"a mark needs the file's SHA-256 (64 lowercase hex), not {sha256!r}")
        note = note.strip() if note and note.strip() else None
        stored = Mark(path, sha256, mark, note, utc_now(), os_user())
        with self._lock:
            db = self._conn()
            if mark is None and note is None:
                db.execute("DELETE FROM marks WHERE path = ? AND sha256 = ?", (path, sha256))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO marks (path, sha256, mark, note, updated_utc, user) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (path, sha256, mark, note, stored.updated_utc, stored.user),
                )
        return stored

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
