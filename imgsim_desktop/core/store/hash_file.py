# SPDX-License-Identifier: Apache-2.0
"""The case's perceptual hashes as one file beside the indexes, for a fast near-copy scan.

The catalogue keeps each file's PDQ hash (an extra of kind ``pdq``, written with its vector); a
query needs all of them at once, and reading a million rows from SQLite would cost it the better
part of a second. So, like the per-scene indexes, they are derived into ``pdq.npz`` (ids, 32-byte
hashes, qualities of every searchable file, and the catalogue generation they reflect), rewritten
when the catalogue changed, written to a temporary file and moved into place under the indexes'
files lock, and loaded by a query in one read. A damaged or stale file is rebuilt from the
catalogue.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.locking import files_lock

HASH_KIND = "pdq"
FILE_NAME = "pdq.npz"


class HashFile:
    """One case's PDQ hashes of searchable files.

    Attributes:
        ids: (n,) catalogue ids, ascending.
        hashes: (n, 32) uint8.
        quality: (n,) uint8.
    """

    def __init__(self, folder: Path, embedder_key: str, read_only: bool = False) -> None:
        self.path = folder / FILE_NAME
        self.read_only = read_only
        self._embedder_key = embedder_key
        self.ids = np.empty(0, np.int64)
        self.hashes = np.empty((0, 32), np.uint8)
        self.quality = np.empty(0, np.uint8)
        self._generation: int | None = None
        #: Structures the query side derives from the hashes (emptied when they change).
        self.derived: dict[str, Any] = {}

    def _read(self) -> int | None:
        """Load the file; its generation, or None when it is absent, damaged or not ours."""
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if str(data["embedder"]) != self._embedder_key:
                    return None
                ids, hashes, quality = data["ids"], data["hashes"], data["quality"]
                generation = int(data["generation"])
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
            return None
        if hashes.shape != (len(ids), 32) or quality.shape != (len(ids),):
            return None
        self.ids, self.hashes, self.quality = ids.astype(np.int64), hashes, quality
        return generation

    def sync(
        self, catalog: Catalog, embedder_id: int | None, generation: int, persist: bool
    ) -> None:
        """Make the hashes those of the catalogue at ``generation`` (already loaded: nothing to
        do; the file current: read it; else rebuilt from the catalogue and, with ``persist``,
        saved)."""
        if self._generation == generation:
            return
        self.derived.clear()
        with contextlib.ExitStack() as stack:
            if not self.read_only:
                stack.enter_context(files_lock(self.path.parent, shared=True))
            found = self._read() if self.path.exists() else None
        if found == generation:
            self._generation = generation
            return
        ids, blobs = catalog.searchable_extras(HASH_KIND, embedder_id)
        data = (
            np.frombuffer(b"".join(blobs), np.uint8).reshape(-1, 33)
            if blobs
            else np.empty((0, 33), np.uint8)
        )
        self.ids, self.hashes, self.quality = (
            ids,
            np.ascontiguousarray(data[:, :32]),
            data[:, 32].copy(),
        )
        self._generation = generation
        if persist and not self.read_only:
            self._save(generation)

    def _save(self, generation: int) -> None:
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp.npz")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            np.savez(
                tmp,
                ids=self.ids,
                hashes=self.hashes,
                quality=self.quality,
                generation=np.int64(generation),
                embedder=np.array(self._embedder_key),
            )
            with files_lock(self.path.parent, shared=False):
                os.replace(tmp, self.path)
        except OSError:
            pass  # derived data: the next query rebuilds it from the catalogue
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
