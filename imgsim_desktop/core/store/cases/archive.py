# SPDX-License-Identifier: Apache-2.0
"""Archived cases: one self-contained, checkable folder per case in a library folder.

An archive holds a case's catalogue (vectors, hashes, scenes), its per-scene index files, the
examiner's marks and notes, the audit log, small thumbnails of its images (so results can be seen
without the evidence) and ``manifest.json``: the SHA-256 and size of every file written. It is
written to a temporary folder and moved into place, so a library never holds half an archive; a
re-archive of the same case replaces it. A library may sit on a read-only share: reading an
archive never writes into it. Before an archive is used its files are checked against its
manifest; a file whose status stamp (size, times, inode) is the one recorded at its last good
check is not hashed again (the record lives in the user cache folder, not in the library).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imgsim_desktop import __version__
from imgsim_desktop.core.errors import StorageError
from imgsim_desktop.core.evidence.imagefile import sha256_file
from imgsim_desktop.core.paths import app_cache_dir
from imgsim_desktop.core.store.cases.registry import CASE_FILE, CATALOG_FILE, CaseInfo, write_info
from imgsim_desktop.core.store.locking import FileLock, files_lock
from imgsim_desktop.core.store.work.audit import AUDIT_FILE, HEAD_SUFFIX

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
THUMBS_FILE = "thumbs.sqlite"
MARKS_FILE = "marks.sqlite"
INDEXES = "indexes"
_CHECKS_FILE = "archive-checks.json"


@dataclass
class ArchivedCase:
    """One archive in a library.

    Attributes:
        path: the archive's folder.
        manifest: its manifest (format, case id and folder, embedders, files with size and hash).
    """

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.manifest.get("case_id", ""))

    @property
    def root(self) -> str:
        return str(self.manifest.get("case", ""))

    @property
    def catalog_path(self) -> Path:
        return self.path / CATALOG_FILE

    @property
    def indexes_dir(self) -> Path:
        return self.path / INDEXES

    @property
    def thumbs_path(self) -> Path:
        return self.path / THUMBS_FILE


def _copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the backup API), without a WAL."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30.0)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _write_thumbs(target: Path, thumbs: Iterable[tuple[str, bytes]]) -> int:
    db = sqlite3.connect(target)
    try:
        db.execute("CREATE TABLE thumbs (sha256 TEXT PRIMARY KEY, jpeg BLOB NOT NULL)")
        count = 0
        with db:
            for sha256, jpeg in thumbs:
                db.execute("INSERT OR REPLACE INTO thumbs VALUES (?, ?)", (sha256, jpeg))
                count += 1
        return count
    finally:
        db.close()


def write_archive(
    data_dir: Path,
    info: CaseInfo,
    library: Path,
    thumbs: Iterable[tuple[str, bytes]],
    embedders: list[str],
) -> tuple[Path, dict[str, Any]]:
    """Write the archive of the case kept in ``data_dir`` into ``library``; returns its folder
    and manifest. Raises StorageError (the library keeps what it had)."""
    slug = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(info.root).name)[:40]
    final = library / f"{slug or 'case'}-{info.id}"
    work = library / f".{final.name}.tmp-{os.getpid()}"
    try:
        library.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        (work / INDEXES).mkdir(parents=True)
        _copy_db(data_dir / CATALOG_FILE, work / CATALOG_FILE)
        if (data_dir / MARKS_FILE).exists():
            _copy_db(data_dir / MARKS_FILE, work / MARKS_FILE)
        with files_lock(data_dir / INDEXES, shared=True):
            for path in (data_dir / INDEXES).glob("*"):
                if path.suffix in (".hnsw", ".npy", ".json"):
                    shutil.copy2(path, work / INDEXES / path.name)
        audit_lock = FileLock((data_dir / AUDIT_FILE).with_suffix(".lock"))
        audit_lock.acquire(wait=30.0)
        try:
            for name in (AUDIT_FILE, Path(AUDIT_FILE).stem + HEAD_SUFFIX):
                if (data_dir / name).exists():
                    shutil.copy2(data_dir / name, work / name)
        finally:
            audit_lock.release()
        count = _write_thumbs(work / THUMBS_FILE, thumbs)
        write_info(CaseInfo(**{**info.__dict__, "data_dir": work}))
        files = {
            path.relative_to(work).as_posix(): {
                "size": path.stat().st_size,
                "sha256": sha256_file(path),
            }
            for path in sorted(work.rglob("*"))
            if path.is_file()
        }
        manifest = {
            "format": ARCHIVE_FORMAT,
            "case_id": info.id,
            "case": info.root,
            "archived_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tool_version": __version__,
            "embedders": embedders,
            "thumbnails": count,
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1))
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        if final.exists():
            os.rename(final, old)
        os.rename(work, final)
        shutil.rmtree(old, ignore_errors=True)
    except (OSError, sqlite3.Error) as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise StorageError(f"cannot write the archive in {library}: {exc}") from exc
    return final, manifest


def list_archives(library: Path) -> list[ArchivedCase]:
    """The archives in a library folder (each a folder with a readable manifest), by folder."""
    found = []
    with contextlib.suppress(OSError):
        for folder in sorted(library.iterdir()):
            if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
                continue
            try:
                manifest = json.loads((folder / MANIFEST).read_text())
            except (OSError, ValueError):
                manifest = {}
            found.append(ArchivedCase(folder, manifest if isinstance(manifest, dict) else {}))
    return found


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino]


def check_archive(archive: ArchivedCase) -> str | None:
    """None when every file of the manifest is there with its size and SHA-256 (and nothing
    unlisted holds data), else why not, in one line."""
    files = archive.manifest.get("files")
    if archive.manifest.get("format") != ARCHIVE_FORMAT or not isinstance(files, dict):
        return "its manifest is missing, unreadable or of an unknown format"
    checks_path = app_cache_dir() / _CHECKS_FILE
    try:
        checks: dict[str, Any] = json.loads(checks_path.read_text())
    except (OSError, ValueError):
        checks = {}
    present = {
        p.relative_to(archive.path).as_posix() for p in archive.path.rglob("*") if p.is_file()
    }
    unlisted = sorted(present - set(files) - {MANIFEST})
    if unlisted:
        return f"{unlisted[0]} is not in its manifest"
    problem = None
    for name, expected in sorted(files.items()):
        path = archive.path / name
        try:
            stamp = _stamp(path)
        except OSError:
            problem = f"{name} is missing"
            break
        key = str(path.absolute())
        if checks.get(key) == [*stamp, expected["sha256"]]:
            continue  # unchanged since its last good check
        if stamp[0] != expected["size"] or sha256_file(path) != expected["sha256"]:
            problem = f"{name} does not match its manifest (changed or damaged)"
            checks.pop(key, None)
            break
        checks[key] = [*stamp, expected["sha256"]]
    with contextlib.suppress(OSError):
        tmp = checks_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(checks))
        os.replace(tmp, checks_path)
    return problem


def archive_info(archive: ArchivedCase) -> CaseInfo | None:
    """The case description stored in the archive."""
    try:
        data = json.loads((archive.path / CASE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return CaseInfo(
        id=str(data.get("id", "")),
        root=str(data.get("case", "")),
        data_dir=archive.path,
        files=int(data.get("files", 0)),
        images=int(data.get("images", 0)),
        last_indexed=data.get("last_indexed"),
    )
