# SPDX-License-Identifier: Apache-2.0
"""Walking a case folder, read-only: which files there are, with size and modification time.

The walk never follows a link out of the case, never visits a folder twice (so link loops end),
and never opens a file for writing. Folders it cannot enter are reported, not fatal.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from imgsim_desktop.core.paths import to_relpath


@dataclass(frozen=True)
class CaseFile:
    """A regular file found in the case (``relpath`` is raw bytes with '/' separators)."""

    path: Path
    relpath: bytes
    size: int
    mtime_ns: int


@dataclass
class ScanResult:
    """Everything a walk found.

    Attributes:
        files: the regular files, sorted by relative path.
        errors: the places it could not read, with the reason.
        unlisted: relative paths of the places it could not look into (folders it could not
            list, entries it could not even stat; ``b"."`` for the root): what the catalogue
            knows below them is missing from view, not gone.
    """

    files: list[CaseFile] = field(default_factory=list)
    errors: list[tuple[bytes, str]] = field(default_factory=list)
    unlisted: list[bytes] = field(default_factory=list)
    _places: set[bytes] = field(default_factory=set, repr=False, compare=False)

    def hides(self, relpath: bytes) -> bool:
        """True when ``relpath`` lies below (or is) a place the walk could not look into."""
        if not self.unlisted:
            return False
        if len(self._places) != len(self.unlisted):
            self._places = set(self.unlisted)
        places = self._places
        if b"." in places:
            return True
        parts = relpath.split(b"/")
        return any(b"/".join(parts[:depth]) in places for depth in range(1, len(parts) + 1))


def _inside(target: str, root_real: str) -> bool:
    return target == root_real or target.startswith(root_real.rstrip(os.sep) + os.sep)


def scan_case(root: Path) -> ScanResult:
    """Every regular file below ``root`` (links followed only when they stay inside the case)."""
    result = ScanResult()
    root_real = os.path.realpath(root)
    seen_dirs: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            folder_stat = os.stat(folder)
            key = (folder_stat.st_dev, folder_stat.st_ino)
            if key in seen_dirs:
                continue
            seen_dirs.add(key)
            with os.scandir(folder) as entries:
                children = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            relpath = to_relpath(Path(folder), root)
            result.errors.append((relpath, f"cannot read folder: {exc.strerror or exc}"))
            result.unlisted.append(relpath)
            continue
        for entry in children:
            for item in _visit(entry, root, root_real, result):
                stack.append(item)
    result.files.sort(key=lambda f: f.relpath)
    return result


def _visit(entry: os.DirEntry, root: Path, root_real: str, result: ScanResult) -> Iterator[str]:
    """Record a file entry in ``result``; yield the entry's path when it is a folder to walk."""
    relpath = to_relpath(Path(entry.path), root)
    try:
        if entry.is_symlink():
            info = os.stat(entry.path)  # raises for a broken link or a loop of links
            if not _inside(os.path.realpath(entry.path), root_real):
                result.errors.append((relpath, "link points outside the case (not followed)"))
                return
        else:
            info = entry.stat(follow_symlinks=False)
    except OSError as exc:
        if not entry.is_symlink():
            reason = f"cannot stat: {exc.strerror or exc}"
            result.unlisted.append(relpath)  # a file or a folder: nothing below it is known gone
        elif exc.errno == errno.ELOOP:
            reason = "link loop (not followed)"
        else:
            reason = f"broken link (target missing: {os.readlink(entry.path)})"
        result.errors.append((relpath, reason))
        return
    if stat.S_ISDIR(info.st_mode):
        yield entry.path
    elif stat.S_ISREG(info.st_mode):
        result.files.append(CaseFile(Path(entry.path), relpath, info.st_size, info.st_mtime_ns))
