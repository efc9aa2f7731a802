# SPDX-License-Identifier: Apache-2.0
"""The thumbnail disk cache: keyed by content, bounded (least recently used go first), shared."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from PIL import Image

from imgsim_desktop.core.evidence.imagefile import sha256_file
from imgsim_desktop.core.paths import app_cache_dir
from imgsim_desktop.core.store.thumbcache import ThumbCache
from tests.conftest import FIXTURES


def test_a_thumbnail_is_decoded_once_then_served_from_the_cache(tmp_path: Path) -> None:
    source = FIXTURES / "case" / "sub" / "scene3_rotated.jpg"
    cache = ThumbCache()
    assert cache.root.is_relative_to(app_cache_dir())  # never the case folder
    sha, size = sha256_file(source), source.stat().st_size
    jpeg = cache.thumbnail(source, sha, size, 96)
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG" and max(image.size) == 96 and image.width > image.height
    gone = tmp_path / "gone.jpg"  # the evidence is not mounted any more: the cache still answers
    assert cache.thumbnail(gone, sha, size, 96) == jpeg
    assert cache.get(sha, size, 128) is None and cache.get(sha, size + 1, 96) is None


def test_the_cache_stays_within_its_bound_dropping_the_least_recently_used(tmp_path: Path) -> None:
    cache = ThumbCache(tmp_path / "thumbs", max_bytes=10_000)
    for n in range(12):
        cache.put(f"{n:064x}", 1, 64, bytes(1000))
        os.utime(cache._path(f"{n:064x}", 1, 64), (n, n))  # older first
    now = time.time()
    assert cache.get(f"{0:064x}", 1, 64) is not None  # a read is a use: entry 0 is now newest
    assert cache.entries() and max(t for t, _, _ in cache.entries()) >= now - 5
    freed = cache.trim()
    kept = {p.name.split("-")[0] for _, _, p in cache.entries()}
    assert freed >= 2000 and sum(s for _, s, _ in cache.entries()) <= 9000
    assert f"{0:064x}" in kept and f"{1:064x}" not in kept and f"{11:064x}" in kept
