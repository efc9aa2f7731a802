# SPDX-License-Identifier: Apache-2.0
"""A case's catalogue in counts, for the case browser, the status bar and the failure list.

:func:`case_overview` reads the catalogue and aggregates it (on a pool thread, never the GUI
thread): the folder tree with images and unreadable files below each folder, scenes, and the
failures merged with those of the last indexing run (folders that could not be listed, links
out of the case). The GUI thread only hands the result to lazily filled models, however many
files the case holds. Files below a folder the last scan could not list are counted as
``missing`` and listed with the failures: they are kept (and searchable if they were indexed),
never forgotten, until the folder can be read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from imgsim_desktop.core import open_case
from imgsim_desktop.core.store.records import STATUS_FAILED, STATUS_INDEXED
from imgsim_desktop.ui.folder_model import FolderNode, build_folder_tree

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
        tree: the folder tree (images and unreadable files below each folder); None when the
            case has no catalogue yet.
        scenes: images per scene.
        failures: (path, reason) of the failed and the missing files, and of what the last
            indexing run could not read (one line per path).
    """

    files: int = 0
    images: int = 0
    failed: int = 0
    missing: int = 0
    bytes: int = 0
    tree: FolderNode | None = None
    scenes: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)


def case_overview(root: Path, run_failures: Iterable[dict[str, str]] = ()) -> CaseOverview:
    """Aggregate the catalogue of the case at ``root`` (run on a pool thread); ``run_failures``:
    the ``failed`` of the last indexing run (``{"path", "error"}``), merged in."""
    overview = CaseOverview()
    folders: dict[str, list[int]] = {}  # folder -> [images, unreadable] directly in it
    failures: dict[str, str] = {f["path"]: f["error"] for f in run_failures}
    with open_case(root, log_open=False) as case:
        if not case.is_indexed:
            overview.failures = list(failures.items())
            return overview
        for record in case.files():
            overview.files += 1
            counts = folders.setdefault(record.path.rpartition("/")[0], [0, 0])
            if record.missing:
                overview.missing += 1
                failures[record.path] = MISSING_REASON
            if record.status == STATUS_INDEXED:
                overview.images += 1
                overview.bytes += record.size
                overview.scenes[record.scene or "other"] += 1
                counts[0] += 1
            elif record.status == STATUS_FAILED:
                overview.failed += 1
                counts[1] += 1
                failures[record.path] = record.error or ""
    overview.tree = build_folder_tree({path: (n[0], n[1]) for path, n in folders.items()})
    overview.failures = list(failures.items())
    return overview


def status_line(root: Path, overview: CaseOverview, index_state: str) -> str:
    """The status bar: the case, its images, unreadable and missing files, and the index."""
    missing = f"  ·  {overview.missing} missing" if overview.missing else ""
    return (
        f"{root}  ·  {overview.images} images ({overview.bytes / 1e6:.1f} MB)"
        f"  ·  {overview.failed} unreadable{missing}  ·  {index_state}"
    )
