# SPDX-License-Identifier: Apache-2.0
"""The per-case audit log: append-only JSON lines in the case's app data folder.

Every line is one JSON object with the UTC time (``ts``), the OS user name (``user``), the
``event`` name and its fields, its line number ``seq`` and ``prev``: the SHA-256 of the previous
line's bytes (64 zeros for the first line). Beside the log, ``audit.head.json`` records how many
lines were written and the hash of the last one. Together they make an edited, removed, inserted
or reordered line, and lines cut off the end, detectable (:meth:`AuditLog.verify`). They are not a
signature: whoever can write the data folder can rewrite the whole log and its record
consistently; the chain shows accidental damage and naive edits, not a determined forger.
Lines are appended under an exclusive lock (``audit.lock``, through portalocker on every
platform), written in one call and flushed to disk, so two processes working on the same case
(the GUI and the CLI) interleave whole lines and never fork the chain.

Events written by the core: ``case_opened``, ``index_started``, ``index_finished``,
``index_cancelled``, ``index_failed``, ``query``, ``query_failed``, ``mark``, ``note``,
``export`` and ``export_refused``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from imgsim_desktop.core.errors import AuditLogError
from imgsim_desktop.core.paths import ensure_dir
from imgsim_desktop.core.store.locking import FileLock

AUDIT_FILE = "audit.jsonl"
#: ``audit.head.json``: the number of lines written and the hash of the last one.
HEAD_SUFFIX = ".head.json"
LOCK_WAIT = 30.0
GENESIS = "0" * 64


def utc_now() -> str:
    """The current UTC time as ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def os_user() -> str:
    """The name of the OS user running the process (never raises)."""
    try:
        return getpass.getuser()
    except Exception:  # no login name, no passwd entry: fall back to the uid
        return os.environ.get("USERNAME") or f"uid:{getattr(os, 'getuid', lambda: '?')()}"


def line_hash(line: bytes) -> str:
    """SHA-256 of one log line's bytes, without its newline."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One line of the log.

    Attributes:
        number: 1-based line number.
        raw: the line exactly as stored (without the newline).
        data: the parsed object (``{"event": "unparsable"}`` when the line is not JSON).
    """

    number: int
    raw: str
    data: dict[str, Any]

    @property
    def event(self) -> str:
        return str(self.data.get("event", ""))


class AuditLog:
    """The append-only audit log of one case.

    Attributes:
        path: the log file (``audit.jsonl`` in the case's app data folder).
        case: the case folder the entries are about.
    """

    def __init__(self, path: Path, case: Path) -> None:
        self.path = path
        self.case = case

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    @property
    def head_path(self) -> Path:
        """Where the log's length and last line hash are recorded (beside the log)."""
        return self.path.with_name(self.path.stem + HEAD_SUFFIX)

    def read_head(self) -> dict[str, Any] | None:
        """``{"lines": n, "last": sha256}`` as recorded by the last append, or None."""
        try:
            head = json.loads(self.head_path.read_text())
        except (OSError, ValueError):
            return None
        return head if isinstance(head, dict) and "lines" in head and "last" in head else None

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one event under the log's lock and record the new length and last hash;
        returns the object written. Raises AuditLogError."""
        record: dict[str, Any] = {"ts": utc_now(), "user": os_user(), "event": event}
        record["case"] = str(self.case)
        record.update(fields)
        try:
            ensure_dir(self.path.parent)
            lock = FileLock(self.path.with_suffix(".lock"))
            if not lock.acquire(wait=LOCK_WAIT):
                raise AuditLogError(f"the audit log {self.path} stayed locked by another process")
            try:
                self._append_locked(record)
            finally:
                lock.release()
        except OSError as exc:
            raise AuditLogError(f"cannot append to the audit log {self.path}: {exc}") from exc
        return record

    def _append_locked(self, record: dict[str, Any]) -> None:
        with open(self.path, "a+b") as handle:
            last = _last_line(handle)
            prefix = b""
            if last is not None and not last.endswith(b"\n"):
                prefix = b"\n"  # a torn line from a crash: end it, keep it in the chain
            previous = GENESIS if last is None else line_hash(last)
            head = self.read_head()
            if last is None:
                count = 0
            elif head is not None and head["last"] == previous:
                count = int(head["lines"])
            else:  # no record yet (an older log) or one append behind (a crash): count
                handle.seek(0)
                count = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
                count += bool(prefix)
            record["seq"] = count + 1
            record["prev"] = previous
            # names that are not valid UTF-8 (lone surrogates) become \udcXX escapes
            line = json.dumps(record, ensure_ascii=False, default=str).encode(
                "utf-8", "backslashreplace"
            )
            handle.write(prefix + line + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        tmp = self.head_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"lines": count + 1, "last": line_hash(line)}))
        os.replace(tmp, self.head_path)

    def entries(self) -> list[AuditEntry]:
        """Every line of the log, in order (empty when there is no log yet)."""
        if not self.exists:
            return []
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise AuditLogError(f"cannot read the audit log {self.path}: {exc}") from exc
        out = []
        for number, raw in enumerate(data.split(b"\n")[: -1 if data.endswith(b"\n") else None]):
            text = raw.decode("utf-8", errors="replace")
            try:
                parsed = json.loads(text)
                if not isinstance(parsed, dict):
                    raise ValueError("not an object")
            except ValueError:
                parsed = {"event": "unparsable"}
            out.append(AuditEntry(number + 1, text, parsed))
        return out

    def verify(self) -> list[str]:
        """Problems found in the log (empty when it is intact): a line that was changed, removed,
        inserted or reordered breaks the chain of line hashes; lines cut off its end disagree with
        the recorded length and last hash (see :meth:`append`)."""
        problems = []
        previous = GENESIS
        entries = self.entries()
        hashes = []
        for entry in entries:
            if entry.event == "unparsable":
                problems.append(f"line {entry.number} is not a JSON object")
            elif entry.data.get("prev") != previous:
                problems.append(
                    f"line {entry.number}: chain broken (a line before it was changed or removed)"
                )
            previous = line_hash(entry.raw.encode("utf-8"))
            hashes.append(previous)
        head = self.read_head()
        if head is None:
            if any("seq" in e.data for e in entries):
                problems.append(
                    f"the log's length record {self.head_path.name} is missing or unreadable"
                )
            return problems  # a log written before length records: the chain is all there is
        recorded = int(head["lines"])
        if len(entries) < recorded:
            problems.append(
                f"the log has {len(entries)} lines but {recorded} were written: "
                f"{recorded - len(entries)} line(s) cut off its end"
            )
        elif recorded and hashes[recorded - 1] != head["last"]:
            problems.append(f"line {recorded}, the last one recorded, is not the line written")
        return problems

    def lines_for_query(self, query_sha256: str, paths: Iterable[str] = ()) -> list[AuditEntry]:
        """The entries about one query image, and the marks and notes on ``paths``."""
        wanted = set(paths)
        return [
            e
            for e in self.entries()
            if e.data.get("query_sha256") == query_sha256
            or (e.event in ("mark", "note") and e.data.get("path") in wanted)
        ]


def _last_line(handle: Any) -> bytes | None:
    """The last line of an open binary file (with its newline, if any), or None when empty."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return None
    block = 4096
    position = end
    tail = b""
    while position > 0:
        step = min(block, position)
        position -= step
        handle.seek(position)
        tail = handle.read(step) + tail
        cut = tail.rfind(b"\n", 0, len(tail) - 1)
        if cut >= 0:
            return tail[cut + 1 :]
    return tail
