# SPDX-License-Identifier: Apache-2.0
"""The cases this user has indexed: a stable id per case, where its evidence was, and a content
fingerprint so that the same evidence found at another path is recognised and relinked.

Each case's data folder holds ``case.json``: the case's id (made once, kept for good), the case
folder as last indexed, counts and time of the last run, and a fingerprint: the size and SHA-256
of up to :data:`FINGERPRINT_FILES` indexed files spread over the case. A folder *matches* a case
when no sampled file there has other content and at least :data:`MATCH_SHARE` of them are there
with their size and hash. :func:`relink_case` moves a case's data folder (catalogue, indexes,
marks, notes, audit log) to the new folder's place after that check; nothing is re-embedded.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imgsim_desktop.core.errors import RelinkError
from imgsim_desktop.core.evidence.imagefile import sha256_file
from imgsim_desktop.core.paths import app_home, case_data_dir
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.locking import INDEX_LOCK, FileLock
from imgsim_desktop.core.store.work.audit import AUDIT_FILE, AuditLog

CASE_FILE = "case.json"
CATALOG_FILE = "catalog.sqlite"
FINGERPRINT_FILES = 32
MATCH_SHARE = 0.9


@dataclass
class CaseInfo:
    """What ``case.json`` says of one case.

    Attributes:
        id: the case's stable id.
        root: the case folder as last indexed or relinked.
        data_dir: the case's data folder.
        files: files the catalogue knew after the last run.
        images: searchable images after the last run.
        last_indexed: UTC time of the last indexing run (None before the first).
        fingerprint: [{"relpath": hex of the raw relative path, "path", "size", "sha256"}].
    """

    id: str
    root: str
    data_dir: Path
    files: int = 0
    images: int = 0
    last_indexed: str | None = None
    fingerprint: list[dict[str, Any]] = field(default_factory=list)

    @property
    def available(self) -> bool:
        """True when the case folder is there and not empty (a mounted drive)."""
        try:
            with os.scandir(self.root) as entries:
                return next(entries, None) is not None
        except OSError:
            return False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "folder": os.fsencode(self.root).decode("utf-8", "backslashreplace"),
            "files": self.files,
            "images": self.images,
            "last_indexed": self.last_indexed,
            "available": self.available,
        }


def read_info(data_dir: Path) -> CaseInfo | None:
    """The case described in ``data_dir`` (None when it has no readable ``case.json``)."""
    try:
        data = json.loads((data_dir / CASE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "case" not in data:
        return None
    return CaseInfo(
        id=str(data.get("id") or ""),
        root=str(data["case"]),
        data_dir=data_dir,
        files=int(data.get("files", 0)),
        images=int(data.get("images", 0)),
        last_indexed=data.get("last_indexed"),
        fingerprint=list(data.get("fingerprint", [])),
    )


def write_info(info: CaseInfo) -> None:
    """Replace ``case.json`` atomically."""
    data = {
        "id": info.id,
        "case": info.root,
        "files": info.files,
        "images": info.images,
        "last_indexed": info.last_indexed,
        "fingerprint": info.fingerprint,
    }
    path = info.data_dir / CASE_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1))  # ASCII: surrogates of odd names survive
    os.replace(tmp, path)


def ensure_info(data_dir: Path, root: Path) -> CaseInfo:
    """The case's description, made (with a new id) or brought up to date with ``root``."""
    info = read_info(data_dir) or CaseInfo(id="", root=str(root), data_dir=data_dir)
    if not info.id or info.root != str(root):
        info.id = info.id or uuid.uuid4().hex
        info.root = str(root)
        write_info(info)
    return info


def fingerprint(catalog: Catalog) -> list[dict[str, Any]]:
    """Size and SHA-256 of up to :data:`FINGERPRINT_FILES` indexed files spread over the case."""
    return [
        {"relpath": r.relpath.hex(), "path": r.path, "size": r.size, "sha256": r.sha256}
        for r in catalog.sample(FINGERPRINT_FILES)
        if r.sha256
    ]


def record_run(data_dir: Path, root: Path, catalog: Catalog, last_indexed: str | None) -> CaseInfo:
    """Update ``case.json`` after an indexing run: counts, time and a fresh fingerprint."""
    info = ensure_info(data_dir, root)
    info.files = catalog.count_all()
    info.images = catalog.count()
    info.last_indexed = last_indexed
    info.fingerprint = fingerprint(catalog)
    write_info(info)
    return info


def check_folder(
    sample: list[dict[str, Any]], folder: Path, sizes_only: bool = False
) -> str | None:
    """None when ``folder`` holds the sampled files, else why not (one line)."""
    if not sample:
        return "the case has no indexed file to compare with"
    found = differ = 0
    for entry in sample:
        path = Path(os.fsdecode(os.path.join(os.fsencode(folder), bytes.fromhex(entry["relpath"]))))
        try:
            if path.stat().st_size != entry["size"]:
                differ += 1
                continue
            if not sizes_only and sha256_file(path) != entry["sha256"]:
                differ += 1
                continue
        except OSError:
            continue
        found += 1
    if differ:
        return f"{differ} of {len(sample)} sampled files have other content in {folder}"
    if found < MATCH_SHARE * len(sample):
        return f"only {found} of {len(sample)} sampled files are in {folder}"
    return None


def known_cases() -> list[CaseInfo]:
    """Every case under the app data folder that has a catalogue, by folder."""
    found = []
    for data_dir in sorted((app_home() / "cases").glob("*")):
        info = read_info(data_dir)
        if info is not None and (data_dir / CATALOG_FILE).exists():
            found.append(info)
    return sorted(found, key=lambda i: i.root)


def _sample_of(info: CaseInfo) -> list[dict[str, Any]]:
    if info.fingerprint:
        return info.fingerprint
    catalog = Catalog(info.data_dir / CATALOG_FILE)
    try:
        return fingerprint(catalog)
    finally:
        catalog.close()


def find_moved_case(folder: Path) -> CaseInfo | None:
    """A known case whose folder is gone (or empty) and whose files are in ``folder``."""
    for info in known_cases():
        if info.root == str(folder) or info.available:
            continue
        sample = _sample_of(info)
        if (
            check_folder(sample, folder, sizes_only=True) is None
            and check_folder(sample, folder) is None
        ):
            return info
    return None


def find_case(old: str) -> CaseInfo:
    """A known case by its folder (as indexed) or its id; raises RelinkError."""
    by_path = read_info(case_data_dir(Path(old).expanduser().absolute()))
    if by_path is not None and (by_path.data_dir / CATALOG_FILE).exists():
        return by_path
    for info in known_cases():
        if old in (info.id, info.root):
            return info
    raise RelinkError(f"no indexed case at {old} (see: imgsim cases)")


def relink_case(old: str, new: Path) -> tuple[CaseInfo, CaseInfo]:
    """Move the data of the case at ``old`` (a folder or a case id) to ``new`` after checking that
    ``new`` holds its files; returns (before, after). Raises RelinkError with the reason."""
    before = find_case(old)
    new = new.expanduser().absolute()
    if not new.is_dir():
        raise RelinkError(f"new case folder not found: {new}")
    if str(new) == before.root:
        raise RelinkError(f"the case is already at {new}")
    target = case_data_dir(new)
    if (target / CATALOG_FILE).exists():
        other = read_info(target)
        raise RelinkError(
            f"{new} is already an indexed case{f' ({other.id})' if other else ''}; "
            "nothing was moved"
        )
    problem = check_folder(_sample_of(before), new)
    if problem is not None:
        raise RelinkError(f"{new} does not hold the evidence of case {before.id}: {problem}")
    lock = FileLock(before.data_dir / "indexes" / INDEX_LOCK)
    if not lock.acquire(wait=0):
        raise RelinkError("the case is being indexed right now; try again when it has finished")
    lock.release()
    superseded = None
    if target.exists():  # opened at the new place but never indexed there: keep its log aside
        superseded = target.with_name(f"{target.name}.superseded-{time.strftime('%Y%m%dT%H%M%S')}")
        os.rename(target, superseded)
    try:
        os.rename(before.data_dir, target)
    except OSError as exc:
        if superseded is not None:
            with contextlib.suppress(OSError):
                os.rename(superseded, target)
        raise RelinkError(
            f"cannot move the case's data to {target}: {exc.strerror or exc}"
        ) from exc
    after = read_info(target) or before
    after.data_dir, after.root = target, str(new)
    write_info(after)
    AuditLog(target / AUDIT_FILE, new).append(
        "case_relinked",
        case_id=after.id,
        relinked_from=before.root,
        relinked_to=after.root,
        files_checked=len(_sample_of(after)),
        superseded_data=None if superseded is None else str(superseded),
    )
    return before, after
