# SPDX-License-Identifier: Apache-2.0
"""Known-file hash sets, kept per user (not per case: a unit shares them across its cases).

Each set is one SQLite file in ``<app home>/hashsets/``, named after the set: a ``hashes`` table
keyed by the raw digest (16, 20 or 32 bytes: MD5, SHA-1 or SHA-256) with the set's category, and
the set's description (source file, format, counts, when imported). An import writes a hidden
temporary file and renames it into place when complete, so a cancelled or killed import leaves
no half set, and removing a set deletes its file.

A lookup is an indexed search per set (:class:`KnownFiles`), batched over many files: the cost per
file does not grow with the size of the sets. A file is known to a set when any of its MD5, SHA-1
or SHA-256 is in it; ``known`` is the names of the sets that know it, in name order, joined by
", " (names cannot hold a comma).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import islice
from operator import itemgetter
from pathlib import Path

from imgsim_desktop.core.errors import HashSetError
from imgsim_desktop.core.paths import app_home, ensure_dir
from imgsim_desktop.core.progress import CancelCheck, ProgressCallback, Reporter
from imgsim_desktop.core.store.known.hashset_formats import (
    ALGORITHM_BY_BYTES,
    HashSetFormat,
    Tally,
    detect_format,
    parse_digest,
    read_entries,
)

HASHSETS_DIR = "hashsets"
SUFFIX = ".sqlite"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
#: Entries sorted and inserted per step while importing: sorted input is appended to the table's
#: B-tree, so a set of up to this many entries is written in one pass of appends.
CHUNK = 2_000_000
#: Bound parameters per lookup statement (under SQLite's limit).
LOOKUP_CHUNK = 900
SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE hashes (digest BLOB PRIMARY KEY, category INTEGER) WITHOUT ROWID",
)


@dataclass(frozen=True)
class HashSetInfo:
    """One imported hash set.

    Attributes:
        name: the set's name (what results show as ``known``).
        format: how the source was read (``list``, ``csv``, ``vics``, ``nsrl``).
        source: the imported file's absolute path.
        source_size: its size in bytes.
        source_sha256: its SHA-256 (None for NSRL databases, which are not read whole).
        imported_utc: when it was imported (ISO 8601).
        entries: distinct digests kept.
        skipped: lines or records without a usable digest.
        by_algorithm: entries per digest kind (``md5``, ``sha1``, ``sha256``).
        categories: entries per category (``none`` when the source gives none).
        seconds: how long the import took.
    """

    name: str
    format: str
    source: str
    source_size: int
    source_sha256: str | None
    imported_utc: str
    entries: int
    skipped: int
    by_algorithm: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def hash_sets_dir() -> Path:
    """The folder holding this user's hash sets (created if needed)."""
    return ensure_dir(app_home() / HASHSETS_DIR)


def check_name(name: str) -> str:
    """``name`` if it can name a set (1-64 letters, digits, ``. _ -``; no leading dot)."""
    if not NAME_PATTERN.match(name or ""):
        raise HashSetError(
            f"invalid hash set name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def _set_path(name: str) -> Path:
    return hash_sets_dir() / f"{check_name(name)}{SUFFIX}"


def _read_info(db: sqlite3.Connection) -> HashSetInfo:
    row = db.execute("SELECT value FROM meta WHERE key = 'info'").fetchone()
    if row is None:
        raise sqlite3.DatabaseError("no description")
    return HashSetInfo(**json.loads(row[0]))


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)


def list_hash_sets() -> list[HashSetInfo]:
    """Every imported set, by name; raises HashSetError for a damaged set file."""
    found = []
    for path in sorted(hash_sets_dir().glob(f"*{SUFFIX}")):
        if path.name.startswith("."):
            continue
        try:
            db = _open_read_only(path)
            try:
                found.append(_read_info(db))
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise HashSetError(f"the hash set file {path} is damaged ({exc}); remove it") from exc
    return sorted(found, key=lambda info: info.name)


def remove_hash_set(name: str) -> HashSetInfo:
    """Delete the set ``name``; returns what it was."""
    path = _set_path(name)
    for info in list_hash_sets():
        if info.name == name:
            path.unlink()
            return info
    raise HashSetError(f"no hash set named {name!r} (see: imgsim hashset list)")


def _chunks(
    entries: Iterator[tuple[bytes, int | None]],
) -> Iterator[list[tuple[bytes, int | None]]]:
    while chunk := list(islice(entries, CHUNK)):
        chunk.sort(key=itemgetter(0))  # stable: the first of duplicates is kept
        yield chunk


def import_hash_set(
    path: str | Path,
    name: str,
    fmt: str | HashSetFormat = HashSetFormat.AUTO,
    column: str | None = None,
    replace: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> HashSetInfo:
    """Import the hash set in ``path`` as ``name``; raises HashSetError or Cancelled.

    Args:
        fmt: ``auto`` (told by content), ``list``, ``csv``, ``vics`` or ``nsrl``.
        column: the CSV column holding the hashes (default: the one named like a hash).
        replace: replace an existing set of that name instead of refusing.
        progress: receives ``import`` events (entries read so far; total unknown, 0).
    """
    started = time.monotonic()
    source = Path(path).expanduser().absolute()
    final = _set_path(name)
    if final.exists() and not replace:
        raise HashSetError(
            f"a hash set named {name!r} already exists (remove it, or import with --replace)"
        )
    if not source.is_file():
        raise HashSetError(f"hash set file not found: {path}")
    chosen = HashSetFormat(fmt) if fmt != HashSetFormat.AUTO else detect_format(source)
    data = None
    if chosen is not HashSetFormat.NSRL:
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise HashSetError(f"cannot read {source}: {exc.strerror or exc}") from exc
    reporter = Reporter(progress, cancel)
    tally = Tally()
    temp = final.with_name(f".{name}.{os.getpid()}.importing")
    db = sqlite3.connect(temp, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -65536")  # 64 MB: big sets arrive in several chunks
        db.execute("BEGIN")
        for statement in SCHEMA:
            db.execute(statement)
        read = 0
        for chunk in _chunks(read_entries(source, chosen, data, tally, column)):
            reporter.check_cancel()
            db.executemany("INSERT OR IGNORE INTO hashes VALUES (?, ?)", chunk)
            read += len(chunk)
            reporter.report("import", read, 0, f"{read} entries read", force=True)
        by_algorithm: dict[str, int] = {}
        categories: dict[str, int] = {}
        for size, category, count in db.execute(
            "SELECT length(digest), category, count(*) FROM hashes GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            kind = ALGORITHM_BY_BYTES.get(size, str(size))
            by_algorithm[kind] = by_algorithm.get(kind, 0) + count
            label = "none" if category is None else str(category)
            categories[label] = categories.get(label, 0) + count
        entries = sum(by_algorithm.values())
        if not entries:
            raise HashSetError(
                f"no hash found in {source} read as {chosen.value} "
                f"({tally.skipped} line(s) or record(s) without one)"
            )
        info = HashSetInfo(
            name=name,
            format=chosen.value,
            source=str(source),
            source_size=source.stat().st_size,
            source_sha256=None if data is None else hashlib.sha256(data).hexdigest(),
            imported_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            entries=entries,
            skipped=tally.skipped,
            by_algorithm=by_algorithm,
            categories=categories,
            seconds=round(time.monotonic() - started, 3),
        )
        db.execute("INSERT INTO meta VALUES ('info', ?)", (json.dumps(info.to_json()),))
        db.execute("COMMIT")
        db.close()
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
        return info
    except sqlite3.Error as exc:
        raise HashSetError(f"cannot write the hash set {name!r}: {exc}") from exc
    finally:
        db.close()
        temp.unlink(missing_ok=True)


DigestRow = tuple[str | None, str | None, str | None]


class KnownFiles:
    """The imported sets, opened for lookups. Use as a context manager.

    ``match_many`` looks up many files at once (one indexed query per set per 900 digests).
    """

    def __init__(self, sets: list[tuple[HashSetInfo, sqlite3.Connection]]) -> None:
        self._sets = sets

    @classmethod
    def open(cls) -> KnownFiles:
        """Open every imported set (none is fine: nothing is known)."""
        opened = []
        for info in list_hash_sets():
            try:
                opened.append((info, _open_read_only(_set_path(info.name))))
            except sqlite3.Error:  # removed meanwhile
                continue
        return cls(opened)

    @property
    def sets(self) -> list[HashSetInfo]:
        return [info for info, _db in self._sets]

    def _found(self, db: sqlite3.Connection, digests: list[bytes]) -> set[bytes]:
        found: set[bytes] = set()
        for start in range(0, len(digests), LOOKUP_CHUNK):
            part = digests[start : start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(part))
            found.update(
                bytes(row[0])
                for row in db.execute(f"SELECT digest FROM hashes WHERE digest IN ({marks})", part)
            )
        return found

    def match_many(self, rows: Sequence[DigestRow]) -> list[str | None]:
        """For each row of hex digests of one file (MD5, SHA-1, SHA-256, in any order; None
        where unknown), the names of the sets that know it, or None."""
        parsed = [[d for d in map(parse_digest, row) if d] for row in rows]
        if not self._sets or not rows:
            return [None] * len(rows)
        wanted = sorted({d for digests in parsed for d in digests})
        try:
            found = [(info.name, self._found(db, wanted)) for info, db in self._sets]
        except sqlite3.Error as exc:
            raise HashSetError(f"cannot read the hash sets: {exc}") from exc
        answers = []
        for digests in parsed:
            names = [name for name, hits in found if any(d in hits for d in digests)]
            answers.append(", ".join(names) if names else None)
        return answers

    def match(
        self, md5: str | None = None, sha1: str | None = None, sha256: str | None = None
    ) -> str | None:
        """The names of the sets that know a file with these digests (hex), or None."""
        return self.match_many([(md5, sha1, sha256)])[0]

    def close(self) -> None:
        for _info, db in self._sets:
            db.close()
        self._sets = []

    def __enter__(self) -> KnownFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
