# SPDX-License-Identifier: Apache-2.0
"""Reading known-file hash sets in the formats labs exchange them in.

Each reader yields ``(digest, category)`` pairs: the raw digest bytes (16 bytes MD5, 20 SHA-1,
32 SHA-256; the algorithm is told by the length) and the set's category for that file, if it has
one (VICS). When a record carries several digests of one file, only the strongest is kept: every
catalogued file has all three, so one is enough to recognise it.

Formats:

- ``list``: one hex digest per line (MD5, SHA-1 or SHA-256, told by length); blank lines and
  ``#`` comments are skipped and only the first column counts, so ``md5sum`` output works.
- ``csv``: a header row naming a hash column (``MD5``, ``SHA-1``, ``SHA256``, ``hash`` ...; or the
  one given), any of ``, ; tab |`` as delimiter; a file without a header row works when one of
  its columns holds digests. NSRL RDS 2.x ``NSRLFile.txt`` is such a CSV.
- ``vics``: a Project VIC VICS JSON document, either a hash set (``value`` is a list of Media) or
  a case (``value`` is a list of cases holding Media): ``MD5``, ``SHA1``, a SHA-256 among
  ``AlternativeHashes``, and ``Category``.
- ``nsrl``: an NSRL RDSv3 SQLite database, opened read-only: the ``FILE`` table's ``sha256``,
  ``sha1`` and ``md5`` columns.
"""

from __future__ import annotations

import binascii
import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from enum import Enum
from itertools import repeat
from pathlib import Path
from typing import Any

from imgsim_desktop.core.errors import HashSetError

Entry = tuple[bytes, int | None]

#: Hex length of each digest the catalogue keeps.
ALGORITHM_BY_HEX_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}
ALGORITHM_BY_BYTES = {16: "md5", 20: "sha1", 32: "sha256"}
#: Strongest first: the one kept when a record has several.
STRENGTH = ("sha256", "sha1", "md5")

SQLITE_MAGIC = b"SQLite format 3\x00"
_DELIMITERS = (",", ";", "\t", "|")
_HASH_COLUMNS = {
    "md5": "md5",
    "md5hash": "md5",
    "sha1": "sha1",
    "sha1hash": "sha1",
    "sha256": "sha256",
    "sha256hash": "sha256",
    "hash": "",
    "hashvalue": "",
    "digest": "",
}


class HashSetFormat(str, Enum):
    """How a hash-set file is read."""

    AUTO = "auto"
    LIST = "list"
    CSV = "csv"
    VICS = "vics"
    NSRL = "nsrl"


def parse_digest(text: str | bytes | None) -> bytes | None:
    """The digest bytes of an MD5, SHA-1 or SHA-256 written in hex, else None."""
    if not text:
        return None
    token = text.strip() if isinstance(text, bytes) else text.strip().encode("ascii", "replace")
    if len(token) not in ALGORITHM_BY_HEX_LENGTH:
        return None
    try:
        return binascii.unhexlify(token)
    except (binascii.Error, ValueError):
        return None


def strongest(digests: Iterable[bytes | None]) -> bytes | None:
    """The strongest of several digests of one file (SHA-256, then SHA-1, then MD5)."""
    found = {len(d): d for d in digests if d}
    for size in (32, 20, 16):
        if size in found:
            return found[size]
    return None


def detect_format(path: Path) -> HashSetFormat:
    """Tell a file's format from its first bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise HashSetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head.startswith(SQLITE_MAGIC):
        return HashSetFormat.NSRL
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith(("{", "[")):
        return HashSetFormat.VICS
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if parse_digest(line.split(None, 1)[0]) is not None:
            return HashSetFormat.LIST
        return HashSetFormat.CSV if any(d in line for d in _DELIMITERS) else HashSetFormat.LIST
    return HashSetFormat.LIST


class Tally:
    """Lines or records that held no usable digest."""

    def __init__(self) -> None:
        self.skipped = 0


#: A line's first column when it is a digest (64, 40 or 32 hex digits, then space or line end).
_LIST_TOKEN = re.compile(rb"(?m)^[ \t]*([0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![^\s])")
#: A line that is neither blank nor a ``#`` comment.
_LIST_LINE = re.compile(rb"(?m)^[ \t]*[^#\s]")


def read_list(data: bytes, tally: Tally) -> Iterator[Entry]:
    """Digests of a plain list, parsed in bulk (a million lines in well under a second)."""
    by_length: dict[int, list[bytes]] = {}
    for token in _LIST_TOKEN.findall(data):
        by_length.setdefault(len(token), []).append(token)
    tally.skipped += len(_LIST_LINE.findall(data)) - sum(map(len, by_length.values()))
    for length, tokens in by_length.items():
        raw = binascii.unhexlify(b"".join(tokens))
        size = length // 2
        yield from zip((raw[i : i + size] for i in range(0, len(raw), size)), repeat(None))


def _column_key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _hash_columns(header: list[str], column: str | None) -> list[int]:
    """Indexes of the header's hash columns, strongest first."""
    keys = [_column_key(h) for h in header]
    if column:
        wanted = _column_key(column)
        if wanted not in keys:
            raise HashSetError(f"no column named {column!r} (the header has: {', '.join(header)})")
        return [keys.index(wanted)]
    found = [(i, _HASH_COLUMNS[k]) for i, k in enumerate(keys) if k in _HASH_COLUMNS]
    rank = {name: n for n, name in enumerate((*STRENGTH, ""))}
    return [i for i, algorithm in sorted(found, key=lambda item: rank[item[1]])]


def read_csv(data: bytes, tally: Tally, column: str | None) -> Iterator[Entry]:
    text = data.decode("utf-8-sig", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first.count)
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(rows, None)
    if header is None:
        return
    columns = _hash_columns(header, column)
    if not columns:  # no header row: the columns holding digests in the first row
        columns = [i for i, cell in enumerate(header) if parse_digest(cell) is not None]
        if not columns:
            raise HashSetError(
                "found no hash column in the CSV header (name one with --column): "
                + ", ".join(header)
            )
        rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    for row in rows:
        digest = strongest(parse_digest(row[i]) for i in columns if i < len(row))
        if digest is None:
            if any(cell.strip() for cell in row):
                tally.skipped += 1
            continue
        yield digest, None


def _category(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _media_digest(media: dict[str, Any]) -> bytes | None:
    fields = {k.lower(): v for k, v in media.items()}
    candidates = [parse_digest(fields.get("md5")), parse_digest(fields.get("sha1"))]
    alternatives = fields.get("alternativehashes")
    for alternative in alternatives if isinstance(alternatives, list) else []:
        if isinstance(alternative, dict):
            name = _column_key(str(alternative.get("HashName", "")))
            if name in ("sha256", "sha1", "md5"):
                candidates.append(parse_digest(alternative.get("HashValue")))
    return strongest(candidates)


def read_vics(data: bytes, tally: Tally) -> Iterator[Entry]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HashSetError(f"not a VICS JSON document: {exc}") from exc
    values = doc.get("value") if isinstance(doc, dict) else None
    if not isinstance(values, list):
        raise HashSetError("not a VICS JSON document: no 'value' list")
    for item in values:
        if not isinstance(item, dict):
            continue
        inner = item.get("Media")
        media: list[Any] = inner if isinstance(inner, list) else [item]
        for record in media:
            digest = _media_digest(record) if isinstance(record, dict) else None
            if digest is None:
                tally.skipped += 1
                continue
            yield digest, _category(record.get("Category"))


def read_nsrl(path: Path, tally: Tally) -> Iterator[Entry]:
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise HashSetError(f"cannot open {path} as SQLite: {exc}") from exc
    try:
        try:
            columns = {row[1].lower() for row in db.execute("PRAGMA table_info(FILE)")}
        except sqlite3.DatabaseError as exc:
            raise HashSetError(f"{path} is not an SQLite database: {exc}") from exc
        present = [c for c in STRENGTH if c in columns]
        if not present:
            raise HashSetError(
                f"{path} is not an NSRL RDS database: no FILE table with sha256/sha1/md5 columns"
            )
        for row in db.execute(f"SELECT {', '.join(present)} FROM FILE"):
            digest = strongest(parse_digest(v) for v in row)
            if digest is None:
                tally.skipped += 1
                continue
            yield digest, None
    except sqlite3.DatabaseError as exc:
        raise HashSetError(f"cannot read the NSRL database {path}: {exc}") from exc
    finally:
        db.close()


def read_entries(
    path: Path, fmt: HashSetFormat, data: bytes | None, tally: Tally, column: str | None = None
) -> Iterator[Entry]:
    """The entries of ``path`` read as ``fmt`` (``data`` is the file's bytes, for text formats)."""
    if fmt is HashSetFormat.NSRL:
        return read_nsrl(path, tally)
    assert data is not None
    if fmt is HashSetFormat.VICS:
        return read_vics(data, tally)
    if fmt is HashSetFormat.CSV:
        return read_csv(data, tally, column)
    return read_list(data, tally)
