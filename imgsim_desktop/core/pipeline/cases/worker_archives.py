# SPDX-License-Identifier: Apache-2.0
"""The archived cases a cluster worker keeps open between the tasks it runs.

``search --scheduler`` sends one task per archived case for every query image. Opening an archive
(reading its manifest, its catalogue, loading its per-scene indexes) costs more than searching it,
so a worker process keeps the archives it opened: :func:`archive_source` hands out the open case,
keyed by the folder, its manifest's size and modification time (an archive written again is
opened again), the embedder and the dimension. At most :data:`MAX_OPEN` stay open, the least
recently used closed first. A worker may run several tasks at once on its threads; each open
archive is used by one of them at a time (its lock).

The client checked each archive against its manifest before the search; the worker reads the
files at the same path (or mapped with ``--path-map``) and never writes.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from imgsim_desktop.core.pipeline.search import SearchSource
from imgsim_desktop.core.store.cases.archive import MANIFEST, ArchivedCase
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.index import SceneIndexes

#: Archives kept open by one worker process (a 10,000-image case holds about 15 MB in memory).
MAX_OPEN = 256


def open_archive_source(archive: ArchivedCase, embedder_key: str, dim: int) -> SearchSource:
    """An archived case as a read-only search source."""
    catalog = Catalog(archive.catalog_path, read_only=True)
    indexes = SceneIndexes(archive.indexes_dir, embedder_key, dim, read_only=True)
    return SearchSource(Path(archive.root), catalog, indexes, case_id=archive.id)


@dataclass
class _Open:
    source: SearchSource
    lock: threading.Lock = field(default_factory=threading.Lock)


_open: OrderedDict[tuple[str, int, int, str, int], _Open] = OrderedDict()
_guard = threading.Lock()


def _evict() -> None:
    """Close the least recently used archives not in use beyond :data:`MAX_OPEN` (guard held)."""
    for key in list(_open):
        if len(_open) <= MAX_OPEN:
            return
        entry = _open[key]
        if entry.lock.acquire(blocking=False):
            del _open[key]
            entry.source.catalog.close()
            entry.lock.release()


@contextmanager
def archive_source(folder: Path, embedder_key: str, dim: int) -> Iterator[SearchSource]:
    """The archived case in ``folder``, opened once per worker process and held by this task
    until the ``with`` block ends."""
    stat = (folder / MANIFEST).stat()
    key = (str(folder), stat.st_size, stat.st_mtime_ns, embedder_key, dim)
    with _guard:
        entry = _open.get(key)
        if entry is not None:
            _open.move_to_end(key)
    if entry is None:
        archive = ArchivedCase(folder, json.loads((folder / MANIFEST).read_text()))
        made = _Open(open_archive_source(archive, embedder_key, dim))
        with _guard:
            entry = _open.setdefault(key, made)
            _evict()
        if entry is not made:  # another thread opened it meanwhile
            made.source.catalog.close()
    with entry.lock:
        yield entry.source


def close_all() -> None:
    """Close every archive this process keeps open (tests; a worker simply exits)."""
    with _guard:
        while _open:
            _, entry = _open.popitem()
            with entry.lock:
                entry.source.catalog.close()
