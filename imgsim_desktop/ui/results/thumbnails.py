# SPDX-License-Identifier: Apache-2.0
"""Thumbnails for the grid and the detail pane: from the disk cache, else the evidence, else an
archive; decoded on a pool as QImage, kept as QPixmap on the GUI thread.

A picture is asked for by a :class:`ThumbRequest`: the result's SHA-256 and size key the disk
cache (:class:`~imgsim_desktop.core.store.thumbcache.ThumbCache`, in the user cache folder, never
in the case folder). A pool job looks, in order, at:

1. the disk cache: no evidence is read, so a reopened case shows its thumbnails at once, and so
   does one whose drive is not mounted;
2. the evidence file: its bytes are hashed, and the thumbnail made from them is cached under the
   SHA-256 only when the file still has that content (a file changed since indexing is shown as
   it is now, never cached under the old hash);
3. a smaller thumbnail the cache holds (archiving makes 160-pixel ones), then the thumbnail the
   case's archive keeps (a past case searched from a library: evidence not mounted).

Requests are tagged with a generation number; starting a new result set bumps it and drops
queued jobs, so thumbnails of a replaced query never land. The pixmap cache is a bounded LRU.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from imgsim_desktop.core.errors import ImgsimError
from imgsim_desktop.core.evidence.imagefile import read_file
from imgsim_desktop.core.evidence.thumbs import jpeg_of
from imgsim_desktop.core.pipeline.cases.archiving import ARCHIVE_THUMB_SIDE
from imgsim_desktop.core.pipeline.cases.library import archived_thumbnail
from imgsim_desktop.core.pipeline.search import ResultRecord
from imgsim_desktop.core.store.thumbcache import ThumbCache

THUMB_SIDE = 320


class ThumbOrigin(str, Enum):
    """Where a shown thumbnail came from."""

    CACHE = "cache"  # the disk cache (nothing read from the evidence)
    EVIDENCE = "evidence"  # made from the evidence file now
    ARCHIVE = "archive"  # the archive's (or archiving's) thumbnail: the evidence is not mounted


@dataclass(frozen=True)
class ThumbRequest:
    """One picture to show.

    Attributes:
        key: what the grid knows it by (case id and path: unique among shown results).
        path: the evidence file.
        sha256: its content when indexed (None: never hashed, so never cached).
        size: its size when indexed.
        archive: the archive folder of the case it belongs to (a past case from a library).
    """

    key: str
    path: Path
    sha256: str | None
    size: int
    archive: Path | None = None


def thumb_request(record: ResultRecord, archive: Path | None = None) -> ThumbRequest:
    key = f"{record.case_id or ''}\0{record.absolute_path}"
    return ThumbRequest(key, Path(record.absolute_path), record.sha256, record.size, archive)


def to_qimage(width: int, height: int, data: bytes) -> QImage:
    """A QImage owning a copy of RGB888 bytes."""
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def jpeg_to_qimage(jpeg: bytes) -> QImage:
    """Decode JPEG bytes (a pool thread)."""
    with Image.open(io.BytesIO(jpeg)) as image:
        rgb = image.convert("RGB")
    return to_qimage(rgb.width, rgb.height, rgb.tobytes())


def load_thumbnail(
    request: ThumbRequest, cache: ThumbCache, side: int
) -> tuple[bytes, ThumbOrigin]:
    """The request's thumbnail as JPEG bytes and where it came from (see the module docstring).
    Raises ImgsimError when there is none to show."""
    if request.sha256:
        cached = cache.get(request.sha256, request.size, side)
        if cached is not None:
            return cached, ThumbOrigin.CACHE
    try:
        data = read_file(request.path, hashes=False).data
    except ImgsimError as unreadable:
        fallback = _kept_thumbnail(request, cache)
        if fallback is None:
            raise ImgsimError(f"no thumbnail: {unreadable}") from unreadable
        return fallback, ThumbOrigin.ARCHIVE
    jpeg = jpeg_of(data, side)
    if request.sha256 and hashlib.sha256(data).hexdigest() == request.sha256:
        cache.put(request.sha256, request.size, side, jpeg)
    return jpeg, ThumbOrigin.EVIDENCE


def _kept_thumbnail(request: ThumbRequest, cache: ThumbCache) -> bytes | None:
    if not request.sha256:
        return None
    found = cache.get(request.sha256, request.size, ARCHIVE_THUMB_SIDE)
    if found is None and request.archive is not None:
        found = archived_thumbnail(request.archive, request.sha256)
    return found


class _LoaderSignals(QObject):
    loaded = Signal(int, str, QImage, str)  # generation, key, image, origin
    failed = Signal(int, str, str)  # generation, key, reason


class _ThumbJob(QRunnable):
    def __init__(
        self,
        signals: _LoaderSignals,
        generation: int,
        request: ThumbRequest,
        cache: ThumbCache,
        side: int,
    ) -> None:
        super().__init__()
        self._signals, self._generation, self._request = signals, generation, request
        self._cache, self._side = cache, side

    def run(self) -> None:
        key = self._request.key
        try:
            jpeg, origin = load_thumbnail(self._request, self._cache, self._side)
            image = jpeg_to_qimage(jpeg)
        except (ImgsimError, OSError, ValueError) as exc:  # PIL raises OSError/ValueError
            self._signals.failed.emit(self._generation, key, str(exc))
            return
        self._signals.loaded.emit(self._generation, key, image, origin.value)


class ThumbnailProvider(QObject):
    """Pixmaps by request key, loading missing ones in the background.

    Signals:
        ready: (key) a pixmap became available (or its load failed: see ``failures``).
    """

    ready = Signal(str)  # key of the thumbnail that arrived

    def __init__(
        self,
        pool: QThreadPool,
        capacity: int = 600,
        side: int = THUMB_SIDE,
        cache: ThumbCache | None = None,
    ) -> None:
        super().__init__()
        self._pool = pool
        self._capacity = capacity
        self._side = side
        self._disk = cache or ThumbCache()
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self.failures: dict[str, str] = {}
        self.origins: dict[str, ThumbOrigin] = {}
        self.generation = 0
        self._signals = _LoaderSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)

    def new_generation(self) -> None:
        """Forget queued requests (results of the previous query must not land) and failures
        (a drive mounted since is read again)."""
        self.generation += 1
        self._pool.clear()
        self._pending.clear()
        self.failures.clear()

    def forget(self) -> None:
        """Drop every pixmap kept in memory (the disk cache stays)."""
        self.new_generation()
        self._cache.clear()
        self.origins.clear()

    def pixmap(self, request: ThumbRequest) -> QPixmap | None:
        """The kept pixmap, or None after queueing a load (once per key)."""
        key = request.key
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        if key not in self._pending and key not in self.failures:
            self._pending.add(key)
            job = _ThumbJob(self._signals, self.generation, request, self._disk, self._side)
            self._pool.start(job)
        return None

    def cached(self, key: str) -> QPixmap | None:
        """The kept pixmap for ``key``, without loading it."""
        return self._cache.get(key)

    def has(self, key: str) -> bool:
        return key in self._cache

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _on_loaded(self, generation: int, key: str, image: QImage, origin: str) -> None:
        if generation != self.generation:
            return
        self._pending.discard(key)
        self._cache[key] = QPixmap.fromImage(image)
        self.origins[key] = ThumbOrigin(origin)
        while len(self._cache) > self._capacity:
            dropped, _ = self._cache.popitem(last=False)
            self.origins.pop(dropped, None)
        self.ready.emit(key)

    def _on_failed(self, generation: int, key: str, reason: str) -> None:
        if generation != self.generation:
            return
        self._pending.discard(key)
        self.failures[key] = reason
        self.ready.emit(key)
