# SPDX-License-Identifier: Apache-2.0
"""Incremental, resumable indexing of a case folder.

``index_case`` walks the case, compares every file with the catalogue (size and modification
time), forgets files that are gone, and embeds only new or changed ones: decoding runs on a thread
pool while the model embeds the previous batch, and each batch is committed to the catalogue on its
own, so a killed run loses at most one batch and the next run carries on. One indexer runs per case
at a time (:func:`imgsim_desktop.core.store.locking.indexing_lock`, in the app data folder). The model is
loaded only when there is something to embed. At the end (also after a cancel) the per-scene
indexes are brought in line with the catalogue.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from imgsim_desktop.core.errors import Cancelled, UnreadableImageError
from imgsim_desktop.core.evidence.casefolder import CaseFile
from imgsim_desktop.core.evidence.imagefile import LoadedImage, load_for_embedding, looks_like_image
from imgsim_desktop.core.machine import worker_count
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.progress import Reporter
from imgsim_desktop.core.store.catalog import (
    STATUS_FAILED,
    STATUS_INDEXED,
    STATUS_NOT_IMAGE,
    Catalog,
    FileRow,
    display_path,
)
from imgsim_desktop.core.store.index import SceneIndexes
from imgsim_desktop.core.store.locking import indexing_lock

BATCH_SIZE = 32
EMBEDDER_META = "embedder"
HEAD_META = "scene_head"


@dataclass
class IndexSummary:
    """What one indexing run did (the CLI prints it as JSON).

    Attributes:
        case: the case folder.
        indexed: files embedded in this run.
        unchanged: files skipped because they had not changed since they were last seen.
        removed: files forgotten because they are gone from the case.
        failed: files (and folders) that could not be read, with the reason.
        scenes: indexed images per scene, over the whole case.
        seconds: wall time of the run.
        cancelled: True when the run stopped early on request.
    """

    case: str
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    scenes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cancelled: bool = False

    def to_json(self) -> dict:
        return {
            "case": self.case,
            "indexed": self.indexed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": self.failed,
            "scenes": self.scenes,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _plan(
    files: list[CaseFile], catalog: Catalog, embedder_key: str
) -> tuple[list[CaseFile], int, list[bytes]]:
    """(files to (re)process, unchanged count, relpaths gone from the case)."""
    known = catalog.known_files()
    reembed = catalog.get_meta(EMBEDDER_META) not in (None, embedder_key)
    todo: list[CaseFile] = []
    unchanged = 0
    for item in files:
        previous = known.pop(item.relpath, None)
        same = previous is not None and (previous.size, previous.mtime_ns) == (
            item.size,
            item.mtime_ns,
        )
        if same and not (reembed and previous.status == STATUS_INDEXED):
            unchanged += previous.status != STATUS_NOT_IMAGE
        else:
            todo.append(item)
    return todo, unchanged, list(known)


def _load(item: CaseFile, shorter_side: int) -> LoadedImage | UnreadableImageError:
    try:
        return load_for_embedding(item.path, shorter_side)
    except UnreadableImageError as exc:
        return exc


def _loaded_in_order(
    items: list[CaseFile], shorter_side: int, pool: ThreadPoolExecutor
) -> Iterator[tuple[CaseFile, LoadedImage | UnreadableImageError]]:
    """Decode on the pool, a bounded window ahead of the consumer, yielding in input order."""
    window: deque[tuple[CaseFile, Future]] = deque()
    pending = iter(items)
    for item in pending:
        window.append((item, pool.submit(_load, item, shorter_side)))
        if len(window) >= 2 * BATCH_SIZE:
            break
    while window:
        item, future = window.popleft()
        nxt = next(pending, None)
        if nxt is not None:
            window.append((nxt, pool.submit(_load, nxt, shorter_side)))
        yield item, future.result()


def _labels(head: SceneHead, vectors: np.ndarray) -> list[tuple[str, float, np.ndarray]]:
    probs = head.probabilities(vectors)
    return [(*head.label(row), row) for row in probs]


def _embed_batch(
    batch: list[tuple[CaseFile, LoadedImage]], embedder: Embedder, head: SceneHead
) -> list[FileRow]:
    vectors = embedder.embed([loaded.pixels for _, loaded in batch])
    rows = []
    for (item, loaded), vector, (scene, confidence, prob) in zip(
        batch, vectors, _labels(head, vectors), strict=True
    ):
        rows.append(
            FileRow(
                relpath=item.relpath,
                size=loaded.size,
                mtime_ns=loaded.mtime_ns,
                status=STATUS_INDEXED,
                sha256=loaded.sha256,
                width=loaded.width,
                height=loaded.height,
                scene=scene,
                scene_confidence=confidence,
                scene_probs=prob,
                vector=vector,
            )
        )
    return rows


def index_case(
    case_root_label: str,
    files_source: Callable[[], tuple[list[CaseFile], list[tuple[bytes, str]]]],
    catalog: Catalog,
    embedder: Embedder,
    head: SceneHead,
    indexes: SceneIndexes,
    reporter: Reporter,
) -> IndexSummary:
    """Index new and changed files; see the module docstring. Raises Cancelled after syncing,
    CaseLockedError when another process keeps indexing the case, StorageError when the app data
    folder cannot be written (what was committed before stays)."""
    with indexing_lock(indexes.folder):
        return _index_locked(
            case_root_label, files_source, catalog, embedder, head, indexes, reporter
        )


def _index_locked(
    case_root_label: str,
    files_source: Callable[[], tuple[list[CaseFile], list[tuple[bytes, str]]]],
    catalog: Catalog,
    embedder: Embedder,
    head: SceneHead,
    indexes: SceneIndexes,
    reporter: Reporter,
) -> IndexSummary:
    started = time.monotonic()
    summary = IndexSummary(case=case_root_label)
    reporter.report("scan", 0, 0, "listing files", force=True)
    files, scan_errors = files_source()
    todo, summary.unchanged, gone = _plan(files, catalog, embedder.identity.key)
    summary.removed = catalog.remove(gone)
    if catalog.get_meta(HEAD_META) not in (None, head.key):
        reporter.report(
            "scenes", 0, 1, "the scene head changed: relabelling stored vectors", force=True
        )
        catalog.relabel(lambda vectors: _labels(head, vectors), embedder.identity.dim)
    catalog.set_meta(HEAD_META, head.key)
    cancelled = False
    try:
        _embed_files(todo, catalog, embedder, head, reporter, summary)
    except Cancelled:
        cancelled = True
    finally:
        reporter.report("index", 0, 1, "updating the scene indexes", force=True)
        indexes.sync(catalog, list(head.all_labels))
        reporter.report("index", 1, 1, force=True)
    summary.failed = [{"path": display_path(p), "error": e} for p, e in scan_errors] + [
        {"path": r.path, "error": r.error or ""} for r in catalog.failures()
    ]
    summary.scenes = catalog.scene_counts()
    summary.seconds = time.monotonic() - started
    summary.cancelled = cancelled
    catalog.set_meta("last_indexed", _now())
    if indexes.storage_error is not None:
        raise indexes.storage_error
    if cancelled:
        raise Cancelled("indexing cancelled; the files done so far are kept")
    return summary


def _embed_files(
    todo: list[CaseFile],
    catalog: Catalog,
    embedder: Embedder,
    head: SceneHead,
    reporter: Reporter,
    summary: IndexSummary,
) -> None:
    images: list[CaseFile] = []
    skipped: list[CaseFile] = []
    for item in todo:
        (images if looks_like_image(item.path) else skipped).append(item)
    if skipped:
        catalog.write_rows(
            [
                FileRow(i.relpath, i.size, i.mtime_ns, STATUS_NOT_IMAGE, error="not an image")
                for i in skipped
            ],
            _now(),
        )
    if not images:
        return
    catalog.set_meta(EMBEDDER_META, embedder.identity.key)
    shorter_side = embedder.identity.shorter_side
    batch: list[tuple[CaseFile, LoadedImage]] = []
    failed: list[FileRow] = []
    done = 0
    reporter.report("embed", 0, len(images), force=True)

    def flush() -> None:
        rows = (_embed_batch(batch, embedder, head) if batch else []) + failed
        if rows:
            catalog.write_rows(rows, _now())
        summary.indexed += len(batch)
        batch.clear()
        failed.clear()

    with ThreadPoolExecutor(max_workers=worker_count(), thread_name_prefix="imgsim-decode") as pool:
        for item, loaded in _loaded_in_order(images, shorter_side, pool):
            if isinstance(loaded, UnreadableImageError):
                failed.append(
                    FileRow(
                        item.relpath, item.size, item.mtime_ns, STATUS_FAILED, error=str(loaded)
                    )
                )
            else:
                batch.append((item, loaded))
            done += 1
            if len(batch) + len(failed) >= BATCH_SIZE:
                flush()
                reporter.report("embed", done, len(images), display_path(item.relpath))
                reporter.check_cancel()
        flush()
    reporter.report("embed", done, len(images), force=True)
