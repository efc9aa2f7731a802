# SPDX-License-Identifier: Apache-2.0
"""A case: one evidence folder, its catalogue and its per-scene indexes.

``open_case(path)`` is the public entry point; the CLI and the GUI are thin layers over the
:class:`Case` it returns. The case folder is only ever read: the catalogue and indexes live in the
app's data folder (see :mod:`imgsim_desktop.core.paths`).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from imgsim_desktop import __version__
from imgsim_desktop.core.case_queries import CaseQueries
from imgsim_desktop.core.errors import (
    Cancelled,
    CaseMovedError,
    CaseNotFoundError,
    ImgsimError,
    NotIndexedError,
    StorageError,
)
from imgsim_desktop.core.evidence.casefolder import scan_case
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder, Embedder
from imgsim_desktop.core.model.pdq import NEAR_COPY_DISTANCE, PdqHash
from imgsim_desktop.core.model.scenes import DEFAULT_COVERAGE, OTHER, SceneHead, bundled_head
from imgsim_desktop.core.paths import case_data_dir, ensure_dir, is_inside
from imgsim_desktop.core.pipeline.cases.archiving import ArchiveSummary, archive_case
from imgsim_desktop.core.pipeline.cases.cluster import ClusterOptions
from imgsim_desktop.core.pipeline.indexing import IndexSummary, index_case
from imgsim_desktop.core.pipeline.query import embed_query_with_preview, preview_settings
from imgsim_desktop.core.pipeline.richer.composite import QuerySpec
from imgsim_desktop.core.pipeline.richer.region import Region
from imgsim_desktop.core.pipeline.search import (
    QueryResult,
    QuerySettings,
    SearchSource,
    run_query,
    search,
)
from imgsim_desktop.core.progress import CancelCheck, ProgressCallback, Reporter
from imgsim_desktop.core.store.cases.archive import MANIFEST
from imgsim_desktop.core.store.cases.registry import (
    CATALOG_FILE,
    CaseInfo,
    ensure_info,
    find_moved_case,
    record_run,
)
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.hash_file import HASH_KIND
from imgsim_desktop.core.store.index import SceneIndexes
from imgsim_desktop.core.store.records import FileRecord
from imgsim_desktop.core.store.work.audit import AUDIT_FILE, AuditLog
from imgsim_desktop.core.store.work.marks import (
    MARKS_FILE,
    Mark,
    MarkStore,
)

#: Cases whose query indexes stay loaded in one process (the GUI switches cases; the CLI has one).
MAX_CACHED_CASES = 2
_QUERY_INDEXES: dict[tuple[str, str], SceneIndexes] = {}
_QUERY_INDEXES_LOCK = threading.Lock()


class Case(CaseQueries):
    """An opened case folder.

    Attributes:
        root: the case folder (absolute).
        data_dir: where this case's catalogue and indexes live.
        audit: the case's append-only audit log (in ``data_dir``).
        marks: the examiner's marks and notes (in ``data_dir``); change them with
            :meth:`set_mark` and :meth:`set_note` so the change is audited.
    """

    def __init__(self, root: Path, embedder: Embedder | None = None, head: SceneHead | None = None):
        self.root = root
        self.data_dir = case_data_dir(root)
        if is_inside(self.data_dir, root):
            raise CaseNotFoundError(
                f"the app data folder {self.data_dir} lies inside the case; "
                "set IMGSIM_HOME to a folder outside the evidence"
            )
        self._embedder = embedder
        self._head = head
        self._catalog: Catalog | None = None
        self.audit = AuditLog(self.data_dir / AUDIT_FILE, root)
        self.marks = MarkStore(self.data_dir / MARKS_FILE)

    @property
    def embedder(self) -> Embedder:
        """The embedder (the bundled model unless one was given); its model loads lazily."""
        if self._embedder is None:
            self._embedder = EfficientNetLiteEmbedder()
        return self._embedder

    @property
    def head(self) -> SceneHead:
        if self._head is None:
            self._head = bundled_head()
        return self._head

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / CATALOG_FILE

    @property
    def is_indexed(self) -> bool:
        """True once an indexing run has committed anything for this case (queries work on what
        is indexed so far, during a first run too)."""
        if not self.catalog_path.exists():
            return False
        catalog = self._open_catalog(create=False)
        return catalog.get_meta("last_indexed") is not None or catalog.count_all() > 0

    @property
    def info(self) -> CaseInfo:
        """The case's id, folder, counts and fingerprint (``case.json`` in its data folder)."""
        ensure_dir(self.data_dir)
        return ensure_info(self.data_dir, self.root)

    def _open_catalog(self, create: bool) -> Catalog:
        if self._catalog is None:
            if not create and not self.catalog_path.exists():
                raise NotIndexedError(
                    f"case {self.root} has not been indexed yet (run: imgsim index)"
                )
            ensure_dir(self.data_dir)
            ensure_info(self.data_dir, self.root)
            self._catalog = Catalog(self.catalog_path, create=create)
        return self._catalog

    def _indexes(self) -> SceneIndexes:
        identity = self.embedder.identity
        return SceneIndexes(self.data_dir / "indexes", identity.key, identity.dim)

    def _query_indexes(self) -> SceneIndexes:
        """The indexes queries use, kept loaded in this process while the catalogue's generation
        stays the same (loading and verifying them per query would cost seconds on a big case)."""
        identity = self.embedder.identity
        key = (str(self.data_dir), identity.key)
        with _QUERY_INDEXES_LOCK:
            indexes = _QUERY_INDEXES.pop(key, None) or self._indexes()
            _QUERY_INDEXES[key] = indexes  # most recently used last
            while len(_QUERY_INDEXES) > MAX_CACHED_CASES:
                _QUERY_INDEXES.pop(next(iter(_QUERY_INDEXES)))
        return indexes

    def index(
        self,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
        allow_removal: bool = False,
        new_case: bool = False,
        cluster: ClusterOptions | None = None,
    ) -> IndexSummary:
        """Index new and changed files (see :func:`imgsim_desktop.core.pipeline.indexing.index_case`).

        Args:
            allow_removal: forget the known files that are gone even when the case folder looks
                unmounted (empty, unreadable, or more than half of the files gone at once).
            new_case: index a folder as a new case even when it holds the evidence of a known
                case whose folder is gone (otherwise :class:`CaseMovedError` names the relink).
            cluster: read and embed on a Dask cluster (see
                :mod:`imgsim_desktop.core.pipeline.cases.cluster`); this process writes.
        """
        if not new_case and not self.catalog_path.exists():
            moved = find_moved_case(self.root)
            if moved is not None:
                raise CaseMovedError(
                    f"{self.root} holds the evidence of case {moved.id}, indexed at "
                    f"{moved.root}, which is gone: run `imgsim relink {moved.root} {self.root}` "
                    "to move its catalogue, marks, notes and audit log here without "
                    "re-embedding (or index it as a new case with --new-case)",
                    old_root=moved.root,
                    case_id=moved.id,
                )
        catalog = self._open_catalog(create=True)
        self.audit.append("index_started")
        try:
            summary = index_case(
                str(self.root),
                lambda: scan_case(self.root),
                catalog,
                self.embedder,
                self.head,
                self._indexes(),
                Reporter(progress, cancel),
                allow_removal=allow_removal,
                cluster=cluster,
            )
        except Cancelled as exc:
            self._record_run(catalog)
            kept = exc.summary.to_json() if isinstance(exc.summary, IndexSummary) else {}
            kept.pop("case", None)
            kept.pop("failed", None)
            self.audit.append("index_cancelled", error=str(exc), **kept)
            raise
        except ImgsimError as exc:
            self.audit.append("index_failed", error=str(exc))
            raise
        self._record_run(catalog)
        event = summary.to_json()
        del event["case"]
        del event["failed"]  # the count, as for a cancelled run: the files are in the catalogue
        self.audit.append("index_finished", **event, failures=len(summary.failed))
        return summary

    def _record_run(self, catalog: Catalog) -> None:
        record_run(self.data_dir, self.root, catalog, catalog.get_meta("last_indexed"))

    def query(
        self,
        image_path: str | Path,
        k: int = 20,
        all_scenes: bool = False,
        coverage: float = DEFAULT_COVERAGE,
        rotations: bool = True,
        hide_known: bool = False,
        near_copy_threshold: int = NEAR_COPY_DISTANCE,
        flips: bool = False,
        scales: bool = True,
        windows: bool = False,
        verify_copies: bool = True,
        region: Region | None = None,
        negatives: tuple[str, ...] = (),
        preview: Callable[[QueryResult], None] | None = None,
    ) -> QueryResult:
        """Rank the case's images by similarity to ``image_path``; indexes nothing.

        Results carry ``known`` (the hash sets holding the file); ``hide_known`` leaves those
        files out. ``region`` searches by that rectangle of the image only; ``negatives`` are
        images whose look-alikes go down (see :meth:`query_spec` for more). ``preview`` is
        called first with a quick answer (:func:`~.pipeline.query.preview_settings`: the
        upright view alone, no pixel check) for a window to show while the full query runs;
        the file is read and the upright view embedded once for both. The preview is part of
        this query: only the full answer is audited.
        """
        if region is not None or negatives:
            spec = QuerySpec((str(image_path),), region=region, negatives=tuple(negatives))
            return self.query_spec(
                spec,
                k=k,
                all_scenes=all_scenes,
                coverage=coverage,
                rotations=rotations,
                hide_known=hide_known,
                near_copy_threshold=near_copy_threshold,
                flips=flips,
                scales=scales,
                windows=windows,
                verify_copies=verify_copies,
            )
        if not self.is_indexed:
            raise NotIndexedError(f"case {self.root} has not been indexed yet (run: imgsim index)")
        catalog = self._open_catalog(create=False)
        indexes = self._query_indexes()
        settings = QuerySettings(
            k=k,
            all_scenes=all_scenes,
            coverage=coverage,
            rotations=rotations,
            flips=flips,
            scales=scales,
            windows=windows,
            verify_copies=verify_copies,
            hide_known=hide_known,
            near_copy_threshold=near_copy_threshold,
        )
        source = SearchSource(self.root, catalog, indexes)
        if not indexes.synced_at(OTHER, catalog.generation):  # a warm query: nothing to load
            prefetch = threading.Thread(
                target=self._load_other, args=(indexes,), name="imgsim-prefetch", daemon=True
            )
            prefetch.start()  # while the query image is read and the model loads
        try:
            if preview is None:
                result = run_query(Path(image_path), source, self.embedder, self.head, settings)
            else:
                quick, complete = embed_query_with_preview(
                    Path(image_path), self.embedder, self.head, settings
                )
                preview(search(quick, [source], self.head, preview_settings(settings)))
                result = search(complete(), [source], self.head, settings)
        except ImgsimError as exc:
            self.audit.append("query_failed", query_path=str(image_path), k=k, error=str(exc))
            raise
        self.audit.append("query", **result.audit_fields())
        return result

    def _load_other(self, indexes: SceneIndexes) -> None:
        """Load the ``other`` index, which every query searches, on a thread of its own (hnswlib
        reads the file without the GIL): a fresh query overlaps it with loading the model. The
        query's own sync finds it loaded, or waits for it under the indexes' lock; any failure
        here is left for that sync to meet and report."""
        try:
            catalog = Catalog(self.catalog_path)
        except Exception:  # the query's own opening and sync report what is wrong
            return
        try:
            with indexes.lock:
                indexes.sync_for_query(catalog, [OTHER])
        except Exception:  # likewise
            pass
        finally:
            catalog.close()

    def archive(
        self,
        library: str | Path,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> ArchiveSummary:
        """Write this case's archive into the library folder ``library`` (see
        :mod:`imgsim_desktop.core.store.cases.archive`); the audit log records it."""
        library = Path(library).expanduser().absolute()
        if is_inside(library, self.root):
            raise StorageError(f"an archive is never written inside the case folder: {library}")
        catalog = self._open_catalog(create=False)
        self._record_run(catalog)
        summary = archive_case(
            self.data_dir, self.root, catalog, self.info, library, Reporter(progress, cancel)
        )
        manifest_sha256 = hashlib.sha256((summary.path / MANIFEST).read_bytes()).hexdigest()
        self.audit.append(
            "case_archived",
            archive=str(summary.path),
            manifest_sha256=manifest_sha256,
            files=summary.files,
            images=summary.images,
            thumbnails=summary.thumbnails,
        )
        return summary

    def verify(self) -> dict[str, list[str]]:
        """Check everything kept for the case in full: the catalogue (SQLite's integrity check),
        every index file (full SHA-256 against its metadata; a damaged one is also rebuilt by the
        next query or index run) and the audit log. Returns problems by part (empty lists when
        all is sound)."""
        catalog = self._open_catalog(create=False)
        indexes = self._indexes().verify(list(self.head.all_labels))
        return {
            "catalogue": catalog.integrity_problems(),
            "indexes": [f"{scene}: {why}" for scene, why in indexes.items() if why],
            "audit log": self.audit.verify(),
        }

    def pdq_hashes(self, ids: list[int]) -> dict[int, str]:
        """The stored PDQ hashes (hex, 256 bits) of catalogue ids, where one is usable."""
        stored = self._open_catalog(create=False).extras(HASH_KIND, ids)
        hashes = {file_id: PdqHash.from_bytes(data) for file_id, data in stored.items()}
        return {file_id: h.bits.hex() for file_id, h in hashes.items() if h.usable}

    def set_mark(self, path: str, sha256: str, mark: str | None) -> Mark:
        """Mark one version of a file ``include`` or ``not_relevant`` (None clears); audited.

        Args:
            path: the file's path relative to the case, as in query results.
            sha256: the SHA-256 of the file version being marked (``ResultRecord.sha256``).
            mark: ``include``, ``not_relevant`` or None.
        """
        current = self.marks.get(path, sha256)
        stored = self.marks.set(path, sha256, mark=mark, note=current.note if current else None)
        self.audit.append("mark", path=path, sha256=sha256, mark=mark)
        return stored

    def set_note(self, path: str, sha256: str, note: str | None) -> Mark:
        """Attach the examiner's note to one version of a file (None or '' clears); audited."""
        current = self.marks.get(path, sha256)
        stored = self.marks.set(path, sha256, mark=current.mark if current else None, note=note)
        self.audit.append("note", path=path, sha256=sha256, note=stored.note)
        return stored

    def mark_for(self, path: str, sha256: str | None) -> Mark | None:
        """The mark and note on this version of the file, or None."""
        return None if sha256 is None else self.marks.get(path, sha256)

    def files(self) -> Iterator[FileRecord]:
        """Every file the catalogue knows, sorted by path."""
        if not self.is_indexed:
            raise NotIndexedError(f"case {self.root} has not been indexed yet (run: imgsim index)")
        return self._open_catalog(create=False).iter_records()

    def close(self) -> None:
        self.marks.close()
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_case(
    path: str | Path,
    embedder: Embedder | None = None,
    head: SceneHead | None = None,
    log_open: bool = True,
) -> Case:
    """Open the case folder at ``path`` (which must exist); nothing is indexed yet.

    The opening is recorded in the case's audit log unless ``log_open`` is False (for reading
    the log itself).
    """
    root = Path(path).expanduser().absolute()
    if not root.is_dir():
        raise CaseNotFoundError(f"case folder not found: {path}")
    case = Case(root, embedder, head)
    if log_open:
        case.audit.append("case_opened", tool_version=__version__)
    return case
