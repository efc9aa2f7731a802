# SPDX-License-Identifier: Apache-2.0
"""Reading image files: recognise by content, hash, decode, orient and resize for the model.

A file is read once: its bytes are hashed (SHA-256) and decoded from memory, so the hash in the
catalogue is the hash of exactly the bytes that were embedded. JPEGs are decoded with Pillow's
draft mode at the smallest scale that still covers the size the model needs, EXIF orientation is
applied, and the result is an RGB ``uint8`` array.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from imgsim_desktop.core.errors import UnreadableImageError

#: Largest image (in pixels) that is decoded at all; larger ones are rejected before decoding.
MAX_PIXELS = 250_000_000
#: Longest side fed to the model, as a multiple of the shorter side (extreme panoramas are
#: shrunk further so a 1x100000 strip cannot explode memory).
MAX_ASPECT = 4

IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .gif .bmp .dib .tif .tiff .webp .heic .heif .avif .mpo".split()
)

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"BM", 0, "bmp"),
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"WEBP", 8, "webp"),
    (b"ftypheic", 4, "heic"),
    (b"ftypheix", 4, "heic"),
    (b"ftypmif1", 4, "heif"),
    (b"ftypmsf1", 4, "heif"),
    (b"ftypavif", 4, "avif"),
)
SNIFF_BYTES = 16


def sniff_format(head: bytes) -> str | None:
    """The image format named by a file's first bytes, or None when it is not an image."""
    for magic, offset, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if name == "webp" and not head.startswith(b"RIFF"):
                continue
            return name
    return None


def looks_like_image(path: Path) -> bool:
    """True when the file's extension or its first bytes say it is an image."""
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return True
    try:
        with open(path, "rb") as handle:
            return sniff_format(handle.read(SNIFF_BYTES)) is not None
    except OSError:
        return False


@dataclass(frozen=True)
class LoadedImage:
    """An image read for embedding.

    Attributes:
        sha256: hex SHA-256 of the file's bytes.
        size: the file's size in bytes, as read.
        mtime_ns: the file's modification time when it was read.
        width: full-resolution width after EXIF orientation.
        height: full-resolution height after EXIF orientation.
        pixels: RGB ``uint8`` array (H, W, 3) resized for the model.
    """

    sha256: str
    size: int
    mtime_ns: int
    width: int
    height: int
    pixels: np.ndarray


def read_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and its status taken from the same open handle."""
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            data = handle.read()
    except OSError as exc:
        raise UnreadableImageError(f"cannot read file: {exc.strerror or exc}") from exc
    return data, status


def target_size(width: int, height: int, shorter_side: int) -> tuple[int, int]:
    """Size with the shorter side at ``shorter_side``, the longer side capped by MAX_ASPECT."""
    scale = shorter_side / min(width, height)
    if max(width, height) * scale > MAX_ASPECT * shorter_side:
        scale = MAX_ASPECT * shorter_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode_for_model(data: bytes, shorter_side: int) -> tuple[int, int, np.ndarray]:
    """Decode image bytes: (oriented width, oriented height, resized RGB array)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnreadableImageError(
                    f"image too large: {width}x{height} pixels exceeds the limit of {MAX_PIXELS}"
                )
            orientation = image.getexif().get(0x0112, 1)
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            if image.format == "JPEG":
                image.draft("RGB", (shorter_side, shorter_side))
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image = image.resize(target_size(*image.size, shorter_side), Image.Resampling.BICUBIC)
            return width, height, np.asarray(image, dtype=np.uint8)
    except UnreadableImageError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise UnreadableImageError(f"not a decodable image: {exc}") from exc
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise UnreadableImageError(f"corrupt image: {exc}") from exc


def load_for_embedding(path: Path, shorter_side: int) -> LoadedImage:
    """Read, hash and decode one image file; raises :class:`UnreadableImageError`."""
    data, status = read_bytes(path)
    if not data:
        raise UnreadableImageError("empty file (0 bytes)")
    sha256 = hashlib.sha256(data).hexdigest()
    width, height, pixels = decode_for_model(data, shorter_side)
    return LoadedImage(sha256, status.st_size, status.st_mtime_ns, width, height, pixels)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
