# SPDX-License-Identifier: Apache-2.0
"""A case's catalogue in counts, for the case browser, the status bar and the failure list.

:func:`case_overview` reads the catalogue (on a pool thread, never the GUI thread). Files below a
folder the last scan could not list are counted as ``missing`` and listed with the failures: they
are kept (and searchable if they were indexed), never forgotten, until the folder can be read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from imgsim_desktop.core import open_case
from imgsim_desktop.core.store.records import STATUS_FAILED, STATUS_INDEXED

MISSING_REASON = "missing: its folder could not be listed on the last scan (kept, not forgotten)"


@dataclass
class CaseOverview:
    """Counts for the case browser and the status bar.

    Attributes:
        files: files the catalogue knows.
        images: searchable images.
        failed: files that could not be read.
        missing: files below a folder the last scan could not list.
        bytes: total size of the searchable images.
        folders: images below each folder ("a/b"; "" for the whole case), recursive.
        scenes: images per scene.
        failures: (path, reason) of the failed and the missing files.
    """

    files: int = 0
    images: int = 0
    failed: int = 0
    missing: int = 0
    bytes: int = 0
    folders: Counter = field(default_factory=Counter)
    scenes: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)


def case_overview(root: Path) -> CaseOverview:
    """Aggregate the catalogue of the case at ``root`` (run on a pool thread)."""
    overview = CaseOverview()
    with open_case(root, log_open=False) as case:
        if not case.is_indexed:
            return overview
        for record in case.files():
            overview.files += 1
            if record.missing:
                overview.missing += 1
                overview.failures.append((record.path, MISSING_REASON))
            if record.status == STATUS_INDEXED:
                overview.images += 1
                overview.bytes += record.size
                overview.scenes[record.scene or "other"] += 1
                parts = record.path.split("/")[:-1]
                overview.folders[""] += 1
                for depth in range(1, len(parts) + 1):
                    overview.folders["/".join(parts[:depth])] += 1
            elif record.status == STATUS_FAILED:
                overview.failed += 1
                overview.failures.append((record.path, record.error or ""))
    return overview


def status_line(root: Path, overview: CaseOverview, index_state: str) -> str:
    """The status bar: the case, its images, unreadable and missing files, and the index."""
    missing = f"  ·  {overview.missing} missing" if overview.missing else ""
    return (
        f"{root}  ·  {overview.images} images ({overview.bytes / 1e6:.1f} MB)"
        f"  ·  {overview.failed} unreadable{missing}  ·  {index_state}"
    )
