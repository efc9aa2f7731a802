# SPDX-License-Identifier: Apache-2.0
"""Archiving a case into a library folder (``imgsim archive``): its stored data as it is, plus a
small thumbnail of every indexed image, read from the thumbnail cache or from the evidence.

Thumbnails are made on a thread pool; an image that cannot be read at archive time (the evidence
changed or is partly unreadable) gets none and is counted. Progress is reported per image and a
cancel stops before anything is written to the library.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgsim_desktop.core.errors import ImgsimError
from imgsim_desktop.core.machine import worker_count
from imgsim_desktop.core.progress import Reporter
from imgsim_desktop.core.store.cases.archive import write_archive
from imgsim_desktop.core.store.cases.registry import CaseInfo
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.records import STATUS_INDEXED, FileRecord
from imgsim_desktop.core.store.thumbcache import ThumbCache

#: Longest side of the thumbnails kept in an archive.
ARCHIVE_THUMB_SIDE = 160


@dataclass(frozen=True)
class ArchiveSummary:
    """What ``imgsim archive`` wrote.

    Attributes:
        path: the archive's folder in the library.
        files: files of the archive (with their SHA-256 in the manifest).
        images: indexed images of the case.
        thumbnails: thumbnails kept (an image unreadable at archive time has none).
        manifest: the manifest written.
    """

    path: Path
    files: int
    images: int
    thumbnails: int
    manifest: dict[str, Any]


def _thumbnail(cache: ThumbCache, root: Path, record: FileRecord) -> tuple[str, bytes] | None:
    if not record.sha256:
        return None
    path = Path(os.fsdecode(os.path.join(os.fsencode(root), record.relpath)))
    try:
        return record.sha256, cache.thumbnail(path, record.sha256, record.size, ARCHIVE_THUMB_SIDE)
    except (ImgsimError, OSError):
        return None


def _thumbnails(
    root: Path, records: list[FileRecord], reporter: Reporter
) -> list[tuple[str, bytes]]:
    cache = ThumbCache()
    made: list[tuple[str, bytes]] = []
    with ThreadPoolExecutor(worker_count(), thread_name_prefix="imgsim-archive") as pool:
        results: Iterator[tuple[str, bytes] | None] = pool.map(
            lambda r: _thumbnail(cache, root, r), records
        )
        for done, found in enumerate(results, 1):
            if found is not None:
                made.append(found)
            reporter.report("thumbnails", done, len(records))
            if done % 64 == 0:
                reporter.check_cancel()
    return made


def archive_case(
    data_dir: Path,
    root: Path,
    catalog: Catalog,
    info: CaseInfo,
    library: Path,
    reporter: Reporter,
) -> ArchiveSummary:
    """Write the case's archive into ``library``; raises Cancelled (nothing written) or
    StorageError."""
    records = [r for r in catalog.iter_records() if r.status == STATUS_INDEXED]
    thumbs = _thumbnails(root, records, reporter)
    reporter.check_cancel()
    reporter.report("archive", 0, 1, "writing the archive", force=True)
    path, manifest = write_archive(data_dir, info, library, thumbs, catalog.embedder_keys())
    reporter.report("archive", 1, 1, force=True)
    return ArchiveSummary(path, len(manifest["files"]), len(records), len(thumbs), manifest)
