# SPDX-License-Identifier: Apache-2.0
"""Incremental, resumable indexing of a case folder.

``index_case`` walks the case, plans the run against the catalogue (:mod:`.plan`: new, changed,
retried and re-embedded files; gone ones forgotten; files out of view kept as *missing*; a run that
looks like unmounted evidence refused), and embeds only what needs it: decoding runs on a thread
pool while the model embeds the previous batch, and each batch is committed to the catalogue on its
own, so a killed run loses at most one batch and the next run carries on. Every vector is stored
with the embedder that made it, so a re-embed (a new model or descriptor) that is cancelled or
killed half-way resumes where it stopped and never mixes two vector spaces.

One bad file never stops a run: whatever goes wrong while reading, hashing or decoding one file is
recorded against that file in plain words, and failures that may pass (I/O, permission, a file
changed while read) are retried on the next run. One indexer runs per case at a time
(:func:`~imgsim_desktop.core.store.locking.indexing_lock`). The model is loaded only when there is
something to embed. At the end (also after a cancel) the per-scene indexes are brought in line
with the catalogue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from imgsim_desktop.core.errors import Cancelled
from imgsim_desktop.core.evidence.casefolder import CaseFile, ScanResult
from imgsim_desktop.core.evidence.imagefile import (
    looks_like_image,
)
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.paths import display_path
from imgsim_desktop.core.pipeline.analysis import analyse, scene_labels
from imgsim_desktop.core.pipeline.cases.cluster import (
    ClusterOptions,
    analyse_on_cluster,
    check_options,
)
from imgsim_desktop.core.pipeline.plan import plan_run
from imgsim_desktop.core.progress import Reporter
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.index import SceneIndexes
from imgsim_desktop.core.store.locking import indexing_lock
from imgsim_desktop.core.store.records import (
    STATUS_INDEXED,
    STATUS_NOT_IMAGE,
    FileRow,
)

BATCH_SIZE = 32
HEAD_META = "scene_head"


@dataclass
class IndexSummary:
    """What one indexing run did (the CLI prints it as JSON).

    Attributes:
        case: the case folder.
        indexed: files embedded in this run.
        unchanged: files skipped because they had not changed since they were last seen.
        removed: files forgotten because they are gone from the case.
        missing: known files below folders this run could not list (kept, not forgotten).
        pending: indexed files still to be re-embedded with the current embedder (after a
            cancelled run).
        failed: files (and folders) that could not be read, with the reason.
        scenes: searchable images per scene, over the whole case.
        seconds: wall time of the run.
        cancelled: True when the run stopped early on request.
    """

    case: str
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    missing: int = 0
    pending: int = 0
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
            "missing": self.missing,
            "pending": self.pending,
            "failed": self.failed,
            "scenes": self.scenes,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def index_case(
    case_root_label: str,
    scan: Callable[[], ScanResult],
    catalog: Catalog,
    embedder: Embedder,
    head: SceneHead,
    indexes: SceneIndexes,
    reporter: Reporter,
    allow_removal: bool = False,
    cluster: ClusterOptions | None = None,
) -> IndexSummary:
    """Index new and changed files (on a Dask cluster when ``cluster`` is given, see
    :mod:`.cases.cluster`); see the module docstring.

    Raises EvidenceUnavailableError (nothing changed) when the case looks unmounted, Cancelled
    (with the summary of what was kept) after syncing the indexes, CaseLockedError when another
    process keeps indexing the case, StorageError when the app data folder cannot be written
    (what was committed before stays).
    """
    with indexing_lock(indexes.folder):
        return _index_locked(
            case_root_label, scan, catalog, embedder, head, indexes, reporter, allow_removal,
            cluster,
        )  # fmt: skip


def _index_locked(
    case_root_label: str,
    scan: Callable[[], ScanResult],
    catalog: Catalog,
    embedder: Embedder,
    head: SceneHead,
    indexes: SceneIndexes,
    reporter: Reporter,
    allow_removal: bool,
    cluster: ClusterOptions | None,
) -> IndexSummary:
    started = time.monotonic()
    if cluster is not None:
        check_options(cluster)  # before anything is read or written
    summary = IndexSummary(case=case_root_label)
    reporter.report("scan", 0, 0, "listing files", force=True)
    found = scan()
    identity = embedder.identity
    embedder_id = catalog.embedder_id(identity.key, identity.dim)
    plan = plan_run(case_root_label, found, catalog.known_files(), embedder_id, allow_removal)
    summary.unchanged = plan.unchanged
    summary.removed = catalog.remove(plan.gone)
    catalog.set_missing(plan.missing, True)
    catalog.set_missing(plan.reappeared, False)
    # A head on the index vectors labels the stored vectors again; a head on the layout is part
    # of the embedder's identity, so a new one re-embeds the case instead (see model/layout.py).
    if catalog.get_meta(HEAD_META) not in (None, head.key) and head.reads_stored_vectors:
        reporter.report(
            "scenes", 0, 1, "the scene head changed: relabelling stored vectors", force=True
        )
        catalog.relabel(lambda vectors: scene_labels(head, vectors), embedder_id or 0, identity.dim)
    catalog.set_meta(HEAD_META, head.key)
    cancelled = False
    try:
        analysed = _analyser(case_root_label, embedder, head, cluster)
        _embed_files(plan.todo, catalog, analysed, embedder_id, reporter, summary)
    except Cancelled:
        cancelled = True
    finally:
        reporter.report("index", 0, 1, "updating the scene indexes", force=True)
        indexes.sync(catalog, list(head.all_labels))
        reporter.report("index", 1, 1, force=True)
    summary.failed = [{"path": display_path(p), "error": e} for p, e in found.errors] + [
        {"path": r.path, "error": r.error or ""} for r in catalog.failures()
    ]
    summary.missing = catalog.count_missing()
    summary.pending = catalog.pending(embedder_id)
    summary.scenes = catalog.scene_counts(embedder_id)
    summary.seconds = time.monotonic() - started
    summary.cancelled = cancelled
    catalog.set_meta("last_indexed", _now())
    if indexes.storage_error is not None:
        raise indexes.storage_error
    if cancelled:
        raise Cancelled("indexing cancelled; the files done so far are kept", summary=summary)
    return summary


Analyser = Callable[[list[CaseFile]], Generator[tuple[list[FileRow], int], None, None]]


def _analyser(
    root: str, embedder: Embedder, head: SceneHead, cluster: ClusterOptions | None
) -> Analyser:
    """Files to rows, in this process or on the cluster."""
    if cluster is None:
        return lambda items: analyse(items, embedder, head, BATCH_SIZE)
    return lambda items: analyse_on_cluster(items, root, embedder, head, cluster, BATCH_SIZE)


def _embed_files(
    todo: list[CaseFile],
    catalog: Catalog,
    analysed: Analyser,
    embedder_id: int | None,
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
    done = 0
    reporter.report("embed", 0, len(images), force=True)
    results = analysed(images)
    try:
        for rows, done in results:
            catalog.write_rows(rows, _now(), embedder_id)
            summary.indexed += sum(r.status == STATUS_INDEXED for r in rows)
            reporter.report("embed", done, len(images), display_path(rows[-1].relpath))
            reporter.check_cancel()
    finally:
        results.close()
    reporter.report("embed", done, len(images), force=True)
