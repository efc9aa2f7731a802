# SPDX-License-Identifier: Apache-2.0
"""Thumbnails for the grid: decoded on a pool as QImage, cached as QPixmap on the GUI thread.

Requests are tagged with a generation number; starting a new result set bumps it and drops queued
jobs, so thumbnails of a replaced query never land. The pixmap cache is a bounded LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from imgsim_desktop.core.errors import ImgsimError
from imgsim_desktop.core.evidence.thumbs import make_thumbnail

THUMB_SIDE = 320


def to_qimage(width: int, height: int, data: bytes) -> QImage:
    """A QImage owning a copy of RGB888 bytes."""
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class _LoaderSignals(QObject):
    loaded = Signal(int, str, QImage)  # generation, key, image
    failed = Signal(int, str, str)  # generation, key, reason


class _ThumbJob(QRunnable):
    def __init__(self, signals: _LoaderSignals, generation: int, key: str, path: Path, side: int):
        super().__init__()
        self._signals, self._generation, self._key, self._path, self._side = (
            signals,
            generation,
            key,
            path,
            side,
        )

    def run(self) -> None:
        try:
            thumb = make_thumbnail(self._path, self._side)
        except (ImgsimError, OSError) as exc:
            self._signals.failed.emit(self._generation, self._key, str(exc))
            return
        self._signals.loaded.emit(
            self._generation, self._key, to_qimage(thumb.width, thumb.height, thumb.data)
        )


class ThumbnailProvider(QObject):
    """Pixmaps by key (an absolute path), loading missing ones in the background.

    Signals:
        ready: (key) a pixmap became available.
    """

    ready = Signal(str)  # key of the thumbnail that arrived

    def __init__(self, pool: QThreadPool, capacity: int = 600, side: int = THUMB_SIDE) -> None:
        super().__init__()
        self._pool = pool
        self._capacity = capacity
        self._side = side
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self.failures: dict[str, str] = {}
        self.generation = 0
        self._signals = _LoaderSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)

    def new_generation(self) -> None:
        """Forget queued requests: results of the previous query must not land."""
        self.generation += 1
        self._pool.clear()
        self._pending.clear()

    def pixmap(self, key: str) -> QPixmap | None:
        """The cached pixmap, or None after queueing a load (once per key)."""
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        if key not in self._pending and key not in self.failures:
            self._pending.add(key)
            self._pool.start(_ThumbJob(self._signals, self.generation, key, Path(key), self._side))
        return None

    def has(self, key: str) -> bool:
        return key in self._cache

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _on_loaded(self, generation: int, key: str, image: QImage) -> None:
        if generation != self.generation:
            return
        self._pending.discard(key)
        self._cache[key] = QPixmap.fromImage(image)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        self.ready.emit(key)

    def _on_failed(self, generation: int, key: str, reason: str) -> None:
        if generation != self.generation:
            return
        self._pending.discard(key)
        self.failures[key] = reason
        self.ready.emit(key)
