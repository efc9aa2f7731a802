# SPDX-License-Identifier: Apache-2.0
"""A disk cache of small JPEG thumbnails in the user cache folder, bounded in size (LRU).

Entries are keyed by the file's SHA-256 and size (the content, never the path: the same picture
in two cases or at two paths is one entry, and a changed file is a new one) and by the
thumbnail's side. Each entry is one file, written to a temporary name and moved into place, so
two processes (the GUI and the CLI) share the cache safely. A read refreshes the entry's time;
when the cache grows over its bound, the entries least recently used go first. Nothing is ever
written into a case folder.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from imgsim_desktop.core.evidence.thumbs import thumbnail_jpeg
from imgsim_desktop.core.paths import app_cache_dir

#: Default bound of the cache (bytes); ``IMGSIM_THUMB_CACHE_MB`` overrides it.
DEFAULT_MAX_BYTES = 512 << 20
MAX_ENV = "IMGSIM_THUMB_CACHE_MB"
#: After this many writes the cache's size is measured again (and trimmed if needed).
CHECK_EVERY = 200


def _max_bytes() -> int:
    try:
        return int(float(os.environ[MAX_ENV]) * (1 << 20))
    except (KeyError, ValueError):
        return DEFAULT_MAX_BYTES


class ThumbCache:
    """JPEG thumbnails by (SHA-256, size, side); safe to use from several threads.

    Attributes:
        root: the cache folder.
        max_bytes: the bound; trimming keeps the cache under it.
    """

    def __init__(self, root: Path | None = None, max_bytes: int | None = None) -> None:
        self.root = root or app_cache_dir() / "thumbs"
        self.max_bytes = _max_bytes() if max_bytes is None else max_bytes
        self._lock = threading.Lock()
        self._writes = 0

    def _path(self, sha256: str, size: int, side: int) -> Path:
        return self.root / sha256[:2] / f"{sha256}-{size}-{side}.jpg"

    def get(self, sha256: str, size: int, side: int) -> bytes | None:
        """The cached JPEG, or None; a hit counts as a use."""
        path = self._path(sha256, size, side)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        now = time.time()
        with contextlib.suppress(OSError):
            os.utime(path, (now, now))
        return data

    def put(self, sha256: str, size: int, side: int, jpeg: bytes) -> None:
        """Store a thumbnail (best effort: a full or read-only cache folder is not an error)."""
        path = self._path(sha256, size, side)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(jpeg)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        with self._lock:
            self._writes += 1
            due = self._writes % CHECK_EVERY == 1
        if due:
            self.trim()

    def thumbnail(self, path: Path, sha256: str, size: int, side: int) -> bytes:
        """The thumbnail of the file at ``path`` (whose content is ``sha256``/``size``): from the
        cache, else decoded from the file and cached. Raises UnreadableImageError."""
        cached = self.get(sha256, size, side)
        if cached is not None:
            return cached
        jpeg = thumbnail_jpeg(path, side)
        self.put(sha256, size, side, jpeg)
        return jpeg

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes, path) of every entry."""
        found = []
        for path in self.root.glob("*/*.jpg"):
            with contextlib.suppress(OSError):
                status = path.stat()
                found.append((status.st_mtime, status.st_size, path))
        return found

    def trim(self) -> int:
        """Remove the least recently used entries until the cache is under 90% of its bound;
        returns the bytes freed."""
        entries = sorted(self.entries())
        total = sum(size for _, size, _ in entries)
        freed = 0
        if total <= self.max_bytes:
            return 0
        target = int(self.max_bytes * 0.9)
        for _, size, path in entries:
            if total - freed <= target:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                freed += size
        return freed
