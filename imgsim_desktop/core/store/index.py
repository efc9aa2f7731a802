# SPDX-License-Identifier: Apache-2.0
"""Per-scene HNSW indexes (hnswlib, cosine), derived from the catalogue's vectors.

Each scene has three files in the case's ``indexes/`` folder: ``<scene>.hnsw`` (the graph),
``<scene>.ids.npy`` (the live catalogue ids it holds) and ``<scene>.json`` (metadata: embedder,
parameters, the catalogue generation it reflects, and SHA-256 checksums of the other two). Each is
written to a temporary file and moved into place, the metadata last, so a torn or corrupt save is
detected on load and the index is rebuilt from the stored vectors: no image is decoded again.

The full SHA-256 of each file is taken when it is saved and checked by :meth:`SceneIndex.verify`
(``imgsim verify``). A load checks cheaply (a million images make 1.2 GB of index files): sizes, a
checksum of each file's first and last 64 KiB, and each file's status stamp (size, times, inode)
as recorded right after the save; a file whose stamp differs gets the full check.

Files are replaced under the exclusive side of the case's ``indexes.lock`` and loaded under its
shared side (:mod:`imgsim_desktop.core.store.locking`), and the catalogue is read in one snapshot, so a
query running beside an indexer never sees a torn state. A save that fails (disk full) raises
:class:`~imgsim_desktop.core.errors.StorageError` and leaves the previous files in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import hnswlib
import numpy as np

from imgsim_desktop.core.errors import StorageError
from imgsim_desktop.core.evidence.imagefile import sha256_file
from imgsim_desktop.core.machine import worker_count
from imgsim_desktop.core.store.catalog import Catalog, ids_digest
from imgsim_desktop.core.store.hash_file import HashFile
from imgsim_desktop.core.store.locking import INDEX_LOCK, FileLock, files_lock

INDEX_FORMAT = 1
#: Bytes at each end of an index file checksummed at every load (the whole file at saves).
ENDS_BYTES = 1 << 16
#: Rebuild instead of patching when this share of an index's elements is marked deleted.
MAX_DELETED_SHARE = 0.25


@dataclass(frozen=True)
class IndexParams:
    """HNSW construction and search parameters (recorded in every index's metadata).

    Chosen with ``bench/scale.py``: a million 256-d vectors fit in about 1.3 GB with recall@10
    of 0.98 or more against exact search (M 16 / ef 128 gave 0.94).
    """

    space: str = "cosine"
    m: int = 24
    ef_construction: int = 200
    ef_search: int = 400


@dataclass(frozen=True)
class Hit:
    """One search hit: a catalogue id, its cosine similarity and the scene index it came from."""

    id: int
    score: float
    scene: str


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _stamp(path: Path) -> list[int]:
    """What changes when anyone writes, replaces or copies a file: size, times, inode."""
    status = os.stat(path)
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino]


def _ends_sha256(path: Path) -> str:
    """SHA-256 of a file's first and last :data:`ENDS_BYTES` (cheap, catches most damage)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(ENDS_BYTES))
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - ENDS_BYTES))
        digest.update(handle.read(ENDS_BYTES))
    return digest.hexdigest()


def _save_graph(index: hnswlib.Index, path: Path) -> None:
    index.save_index(str(path))
    if not path.is_file():  # hnswlib reports some write failures only by a missing file
        raise OSError(f"the HNSW graph was not written to {path}")


class SceneIndex:
    """One scene's HNSW index and its live ids."""

    def __init__(
        self,
        folder: Path,
        scene: str,
        embedder_key: str,
        dim: int,
        params: IndexParams,
        read_only: bool = False,
    ):
        self.scene = scene
        self.read_only = read_only
        self._embedder_key = embedder_key
        self._dim = dim
        self._params = params
        self.graph_path = folder / f"{scene}.hnsw"
        self.ids_path = folder / f"{scene}.ids.npy"
        self.meta_path = folder / f"{scene}.json"
        self.index: hnswlib.Index | None = None
        self.ids = np.empty(0, dtype=np.int64)
        self.deleted = 0

    def read_meta(self) -> dict | None:
        """The metadata if present and made for this embedder and these parameters, else None."""
        try:
            meta = json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None
        expected = {
            "format": INDEX_FORMAT,
            "embedder": self._embedder_key,
            "dim": self._dim,
            "params": asdict(self._params),
        }
        if any(meta.get(key) != value for key, value in expected.items()):
            return None
        return meta

    def load(self) -> dict | None:
        """Load metadata, graph and ids under the shared files lock, verifying the checksums;
        returns the metadata, or None when the files are absent, stale or corrupt."""
        if not self.meta_path.exists():
            return None
        with contextlib.ExitStack() as stack:
            if not self.read_only:  # an archive never changes and may sit on a read-only share
                stack.enter_context(files_lock(self.graph_path.parent, shared=True))
            meta = self.read_meta()
            return meta if meta is not None and self._load(meta) else None

    def _intact(self, meta: dict, full: bool = False) -> bool:
        """The cheap check made at every load: each file's size and the checksum of its first and
        last 64 KiB, and its status stamp (size, times, inode) as it was when the full SHA-256
        was taken at the save. A file whose stamp differs (copied, restored, or written by anyone
        else) or ``full`` gets the full SHA-256 check."""
        for path, key in ((self.graph_path, "graph"), (self.ids_path, "ids")):
            stamp = _stamp(path)
            if stamp[0] != meta.get(f"{key}_size", stamp[0]):
                return False
            cheap = (
                not full
                and stamp == meta.get(f"{key}_stamp")
                and _ends_sha256(path) == meta.get(f"{key}_ends_sha256")
            )
            if not cheap and sha256_file(path) != meta[f"{key}_sha256"]:
                return False
        return True

    def verify(self) -> str | None:
        """Full check of the saved files against their metadata: None when intact, else why."""
        meta = self.read_meta()
        if meta is None:
            return "metadata missing, unreadable or made for another model"
        with files_lock(self.graph_path.parent, shared=True):
            try:
                return None if self._intact(meta, full=True) else "checksum mismatch"
            except (OSError, KeyError) as exc:
                return f"unreadable: {exc}"

    def _load(self, meta: dict) -> bool:
        try:
            if not self._intact(meta):
                return False
            ids = np.load(self.ids_path, allow_pickle=False)
            index = hnswlib.Index(space=self._params.space, dim=self._dim)
            index.load_index(str(self.graph_path), max_elements=int(meta["elements"]))
        except (OSError, ValueError, RuntimeError, KeyError):
            return False
        if len(ids) != int(meta["count"]) or index.get_current_count() != int(meta["elements"]):
            return False
        self.index, self.ids, self.deleted = index, ids.astype(np.int64), int(meta["deleted"])
        return True

    def rebuild(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """A fresh graph over ``vectors`` labelled with ``ids``."""
        index = hnswlib.Index(space=self._params.space, dim=self._dim)
        index.init_index(
            max_elements=max(1, len(ids)),
            ef_construction=self._params.ef_construction,
            M=self._params.m,
        )
        if len(ids):
            index.add_items(vectors, ids, num_threads=worker_count())
        self.index, self.ids, self.deleted = index, ids.astype(np.int64), 0

    def patch(self, add_ids: np.ndarray, add_vectors: np.ndarray, remove_ids: np.ndarray) -> None:
        """Add new vectors and mark removed ones deleted in the loaded graph."""
        assert self.index is not None
        for file_id in remove_ids:
            self.index.mark_deleted(int(file_id))
        if len(add_ids):
            needed = self.index.get_current_count() + len(add_ids)
            if needed > self.index.get_max_elements():
                self.index.resize_index(max(needed, 2 * self.index.get_max_elements()))
            self.index.add_items(add_vectors, add_ids, num_threads=worker_count())
        keep = self.ids[~np.isin(self.ids, remove_ids)]
        self.ids = np.sort(np.concatenate([keep, add_ids.astype(np.int64)]))
        self.deleted += len(remove_ids)

    def save(self, generation: int) -> None:
        """Write graph, ids and metadata to temporary files, then move them into place (metadata
        last) under the exclusive files lock. Raises StorageError, keeping the previous files."""
        assert self.index is not None
        tmp_graph = self.graph_path.with_suffix(".hnsw.tmp")
        tmp_ids = self.ids_path.with_suffix(".tmp")
        tmp_meta = self.meta_path.with_suffix(".json.tmp")
        try:
            self.graph_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _save_graph(self.index, tmp_graph)
            with open(tmp_ids, "wb") as handle:
                np.save(handle, self.ids)
            meta = {
                "format": INDEX_FORMAT,
                "scene": self.scene,
                "embedder": self._embedder_key,
                "dim": self._dim,
                "params": asdict(self._params),
                "generation": generation,
                "count": len(self.ids),
                "elements": self.index.get_current_count(),
                "deleted": self.deleted,
                "graph_sha256": sha256_file(tmp_graph),
                "ids_sha256": sha256_file(tmp_ids),
            }
            for tmp in (tmp_graph, tmp_ids):
                _fsync(tmp)
            with files_lock(self.graph_path.parent, shared=False):
                os.replace(tmp_graph, self.graph_path)
                os.replace(tmp_ids, self.ids_path)
                for path, key in ((self.graph_path, "graph"), (self.ids_path, "ids")):
                    meta[f"{key}_stamp"] = _stamp(path)
                    meta[f"{key}_size"] = meta[f"{key}_stamp"][0]
                    meta[f"{key}_ends_sha256"] = _ends_sha256(path)
                tmp_meta.write_text(json.dumps(meta, indent=1))
                _fsync(tmp_meta)
                os.replace(tmp_meta, self.meta_path)
        except OSError as exc:
            raise StorageError(
                f"cannot save the {self.scene!r} index in {self.graph_path.parent}: "
                f"{exc.strerror or exc}; the previous index is kept"
            ) from exc
        finally:
            for tmp in (tmp_graph, tmp_ids, tmp_meta):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()

    def remove_files(self) -> None:
        for path in (self.meta_path, self.graph_path, self.ids_path):
            with contextlib.suppress(OSError):
                path.unlink()
        self.index, self.ids = None, np.empty(0, dtype=np.int64)

    def search(self, queries: np.ndarray, k: int) -> list[Hit]:
        """Up to ``k`` nearest live vectors for each query row (duplicates kept; caller merges)."""
        if self.index is None or not len(self.ids):
            return []
        k = min(k, len(self.ids))
        self.index.set_ef(max(self._params.ef_search, 2 * k))
        while True:
            try:
                labels, distances = self.index.knn_query(queries, k=k, num_threads=worker_count())
                break
            except RuntimeError:  # too few reachable live elements for k
                if k == 1:
                    return []
                k = max(1, k // 2)
        return [
            Hit(int(label), 1.0 - float(dist), self.scene)
            for row_labels, row_dists in zip(labels, distances, strict=True)
            for label, dist in zip(row_labels, row_dists, strict=True)
        ]


class SceneIndexes:
    """All per-scene indexes of one case, kept in step with its catalogue."""

    def __init__(
        self,
        folder: Path,
        embedder_key: str,
        dim: int,
        params: IndexParams | None = None,
        read_only: bool = False,
    ):
        """``read_only``: an archive's indexes, loaded without locks and never saved (an index
        that does not match its catalogue is rebuilt in memory)."""
        self.folder = folder
        self.read_only = read_only
        self._embedder_key = embedder_key
        self._dim = dim
        self.params = params or IndexParams()
        self._loaded: dict[str, SceneIndex] = {}
        self.storage_error: StorageError | None = None
        #: The perceptual hashes of the same searchable files, synced with the indexes.
        self.hashes = HashFile(folder, embedder_key, read_only)
        #: Held by a query around sync + search (a process may share this object between threads).
        self.lock = threading.Lock()
        #: Per scene, the catalogue generation it was synced at and its vector count.
        self._synced: dict[str, tuple[int, int]] = {}
        self._hashes_synced: int | None = None

    def verify(self, scenes: list[str]) -> dict[str, str | None]:
        """Full SHA-256 check of every scene's saved files: scene -> None (intact) or why not
        (scenes without saved files are left out)."""
        return {
            scene: self._scene(scene).verify()
            for scene in scenes
            if self._scene(scene).meta_path.exists()
        }

    def _scene(self, scene: str) -> SceneIndex:
        return SceneIndex(
            self.folder, scene, self._embedder_key, self._dim, self.params, self.read_only
        )

    def is_current(self, catalog: Catalog, scenes: list[str]) -> bool:
        """True when every scene's metadata names the catalogue's current generation."""
        generation = catalog.generation
        present = set(catalog.scene_counts(catalog.embedder_id(self._embedder_key)))
        for scene in scenes:
            meta = self._scene(scene).read_meta()
            if scene in present and (meta is None or meta.get("generation") != generation):
                return False
            if scene not in present and meta is not None:
                return False
        return True

    def sync(self, catalog: Catalog, scenes: list[str], persist: bool = True) -> dict[str, int]:
        """Bring each of ``scenes``' indexes in line with the catalogue, and the hash file;
        returns vectors per scene (scenes without any left out).

        The catalogue is read in one snapshot. A scene already synced at the catalogue's
        generation is not read again. A saved index of the current generation is checked against
        the catalogue by its ids' count and sums (computed by SQLite, :meth:`Catalog.
        scene_ids_digest`), so a query on a case of a million images does not read a million
        ids; one that disagrees is patched or rebuilt from the stored vectors. With ``persist``
        False nothing is written (a query while another process indexes the case patches its
        indexes in memory). A save that fails keeps the index in memory and is recorded in
        :attr:`storage_error`.
        """
        self.storage_error = None
        counts: dict[str, int] = {}
        with catalog.snapshot():
            generation = catalog.generation
            embedder_id = catalog.embedder_id(self._embedder_key)
            for scene in scenes:
                if not self.synced_at(scene, generation):
                    count = self._sync_scene(catalog, scene, embedder_id, generation, persist)
                    self._synced[scene] = (generation, count)
                count = self._synced[scene][1]
                if count:
                    counts[scene] = count
            if self._hashes_synced != generation:
                self.hashes.sync(
                    catalog, embedder_id, generation, persist and not self.storage_error
                )
                self._hashes_synced = generation
        return counts

    def _sync_scene(
        self, catalog: Catalog, scene: str, embedder_id: int | None, generation: int, persist: bool
    ) -> int:
        """Sync one scene's index; returns its vector count."""
        index = self._scene(scene)
        digest = catalog.scene_ids_digest(scene, embedder_id)
        count = digest[0]
        if not count:
            if persist:
                index.remove_files()
            self._loaded.pop(scene, None)
            return 0
        self._loaded[scene] = index
        meta = index.load()
        if meta is not None and meta.get("generation") == generation:
            if ids_digest(index.ids) == digest:
                return count
            meta = None  # ids disagree with the catalogue: rebuild
        want = catalog.scene_ids(scene, embedder_id)
        if meta is not None:
            add = np.setdiff1d(want, index.ids)
            remove = np.setdiff1d(index.ids, want)
            total = index.deleted + len(remove) + len(index.ids) + len(add)
            if (index.deleted + len(remove)) <= MAX_DELETED_SHARE * total:
                index.patch(add, catalog.vectors(add, self._dim), remove)
                self._save(index, generation, persist)
                return count
        index.rebuild(want, catalog.vectors(want, self._dim))
        self._save(index, generation, persist)
        return count

    def synced_at(self, scene: str, generation: int) -> bool:
        """True when ``scene``'s index was synced at the catalogue ``generation`` (in memory, or
        known to be empty): a sync now has nothing to read."""
        synced = self._synced.get(scene)
        return synced is not None and synced[0] == generation

    def sync_for_query(self, catalog: Catalog, scenes: list[str]) -> dict[str, int]:
        """Sync before a query: saved as usual when no indexer runs, else in memory only."""
        if self.read_only:
            return self.sync(catalog, scenes, persist=False)
        lock = FileLock(self.folder / INDEX_LOCK)
        if not lock.acquire(wait=0):
            return self.sync(catalog, scenes, persist=False)
        try:
            return self.sync(catalog, scenes)
        finally:
            lock.release()

    def _save(self, index: SceneIndex, generation: int, persist: bool) -> None:
        if not persist:
            return
        try:
            index.save(generation)
        except StorageError as exc:
            self.storage_error = self.storage_error or exc

    def search(self, queries: np.ndarray, scenes: list[str], k: int) -> tuple[list[Hit], int]:
        """The best ``k`` hits over ``scenes`` (max score per id over query rows), and how many
        vectors the searched indexes hold."""
        best: dict[int, Hit] = {}
        searched = 0
        for scene in scenes:
            index = self._loaded.get(scene)
            if index is None:
                continue
            searched += len(index.ids)
            for hit in index.search(queries, k):
                if hit.id not in best or hit.score > best[hit.id].score:
                    best[hit.id] = hit
        ranked = sorted(best.values(), key=lambda h: (-h.score, h.id))
        return ranked[:k], searched
