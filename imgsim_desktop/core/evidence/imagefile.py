# SPDX-License-Identifier: Apache-2.0
"""Reading image files: recognise by content, hash, decode, orient and resize for the model.

A file is read once: its bytes are hashed (SHA-256) and decoded from memory, so the hash in the
catalogue is the hash of exactly the bytes that were embedded. JPEGs are decoded with Pillow's
draft mode at the smallest scale that still covers the size the model needs, EXIF orientation is
applied, and the result is an RGB ``uint8`` array.

Formats: whatever Pillow reads (JPEG incl. progressive, CMYK and MPO, PNG incl. 16-bit and palette
with transparency, GIF, BMP, TIFF, WebP, AVIF) plus HEIC/HEIF through ``pillow-heif``, whose opener
is registered the first time such a file is met. Multi-frame files give their first frame;
transparent pixels are composited over white; 16-bit samples keep their high byte. The image's
declared size is checked against :data:`MAX_PIXELS` before any pixel is decoded.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError, features

from imgsim_desktop.core.errors import UnreadableImageError
from imgsim_desktop.core.evidence.borders import content_box

#: Largest image (in pixels) that is decoded at all; larger ones are rejected before decoding.
#: Pillow's own decompression-bomb limit (about 179 megapixels), so the two never disagree.
MAX_PIXELS = 2 * (Image.MAX_IMAGE_PIXELS or 89_478_485)
#: Longest side fed to the model, as a multiple of the shorter side (extreme panoramas are
#: shrunk further so a 1x100000 strip cannot explode memory).
MAX_ASPECT = 4

#: Image files larger than this are reported, not read (no photo comes near it; a disk image
#: named ``.jpg`` would otherwise be read whole into memory).
MAX_IMAGE_BYTES = 1 << 30
READ_CHUNK = 1 << 20
_REPR = re.compile(r"<[^<>]*\bat 0x[0-9a-fA-F]+>")

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
    (b"II+\x00", 0, "tiff"),
    (b"MM\x00+", 0, "tiff"),
    (b"WEBP", 8, "webp"),
    (b"ftypavif", 4, "avif"),
    (b"ftypavis", 4, "avif"),
    *((b"ftyp" + brand, 4, "heic") for brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim")),
    *((b"ftyp" + brand, 4, "heif") for brand in (b"mif1", b"msf1", b"heis", b"hevs", b"mif2")),
)
SNIFF_BYTES = 16
_HEIF_FORMATS = frozenset({"heic", "heif"})
_openers_lock = threading.Lock()
_openers_registered: set[str] = set()


def _ensure_opener(kind: str) -> None:
    """Register pillow-heif's opener for HEIF (or AVIF when Pillow lacks it), once per process."""
    family = "avif" if kind == "avif" else "heif"
    if family in _openers_registered or (family == "avif" and features.check("avif")):
        return
    with _openers_lock:
        if family in _openers_registered:
            return
        try:
            import pillow_heif
        except ImportError as exc:
            raise UnreadableImageError(
                f"{kind.upper()} images need the 'pillow-heif' package, which is not installed"
            ) from exc
        register = getattr(pillow_heif, f"register_{family}_opener", None)
        if register is None:  # pillow-heif 1.x reads HEIF only; AVIF needs Pillow's own codec
            raise UnreadableImageError(
                "AVIF images need Pillow built with AVIF support (this Pillow has none)"
            )
        register()
        _openers_registered.add(family)


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
        md5: hex MD5 of the same bytes (what hash sets and VICS exchange).
        sha1: hex SHA-1 of the same bytes.
        size: the file's size in bytes, as read.
        mtime_ns: the file's modification time when it was read.
        width: full-resolution width after EXIF orientation.
        height: full-resolution height after EXIF orientation.
        pixels: RGB ``uint8`` array (H, W, 3) resized for the model (its bars left out, see
            :mod:`.borders`).
        larger: the same at a larger shorter side when asked (a query's second scale).
        framed: the picture with its bars, as ``pixels`` otherwise, when it had bars (None when
            it had none): what the perceptual hash sees, so that a copy hashes alike however its
            bars' edges were blurred by compression.
    """

    sha256: str
    md5: str
    sha1: str
    size: int
    mtime_ns: int
    width: int
    height: int
    pixels: np.ndarray
    larger: np.ndarray | None = None
    framed: np.ndarray | None = None

    @classmethod
    def of(
        cls,
        read: FileBytes,
        width: int,
        height: int,
        pixels: np.ndarray,
        larger: np.ndarray | None,
        framed: np.ndarray | None,
    ) -> LoadedImage:
        """The image decoded from the file ``read``, with that read's digests and status."""
        return cls(
            read.sha256, read.md5, read.sha1, read.size, read.mtime_ns, width, height, pixels,
            larger, framed,
        )  # fmt: skip

    @property
    def hash_pixels(self) -> np.ndarray:
        """The picture the perceptual hash is computed from (with its bars, if any)."""
        return self.pixels if self.framed is None else self.framed


def plain_reason(exc: BaseException) -> str:
    """An exception's message for people: object reprs (``<_io.BytesIO object at 0x…>``) removed,
    the exception's kind when it says nothing else."""
    text = _REPR.sub("", str(exc)).strip(" :")
    text = re.sub(r"\s{2,}", " ", text)
    return text or type(exc).__name__


def _size_text(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class FileBytes:
    """A file read whole, with the digests of exactly those bytes and its status when read."""

    data: bytes
    size: int
    mtime_ns: int
    sha256: str
    md5: str
    sha1: str


def read_file(path: Path, max_bytes: int | None = None, hashes: bool = True) -> FileBytes:
    """Read a file in chunks, hashing while it streams (SHA-256, MD5, SHA-1; empty strings when
    ``hashes`` is False).

    Raises :class:`UnreadableImageError`: ``transient`` for I/O and permission errors and a file
    that changed while it was read (the next run tries again), not for a file over ``max_bytes``
    (reported without reading it); ``max_bytes`` defaults to :data:`MAX_IMAGE_BYTES`.
    """
    max_bytes = MAX_IMAGE_BYTES if max_bytes is None else max_bytes
    digests = (hashlib.sha256(), hashlib.md5(), hashlib.sha1()) if hashes else ()
    chunks: list[bytes] = []
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            if status.st_size > max_bytes:
                raise UnreadableImageError(
                    f"file is {_size_text(status.st_size)}, over the {_size_text(max_bytes)} "
                    "limit for one image; not read"
                )
            while block := handle.read(READ_CHUNK):
                for digest in digests:
                    digest.update(block)
                chunks.append(block)
            after = os.fstat(handle.fileno())
    except FileNotFoundError as exc:
        raise UnreadableImageError("file disappeared before it could be read", True) from exc
    except PermissionError as exc:
        raise UnreadableImageError("permission denied: the file cannot be read", True) from exc
    except OSError as exc:
        raise UnreadableImageError(
            f"cannot read the file: {exc.strerror or plain_reason(exc)}", True
        ) from exc
    data = b"".join(chunks)
    if (after.st_size, after.st_mtime_ns) != (status.st_size, status.st_mtime_ns) or len(
        data
    ) != status.st_size:
        raise UnreadableImageError(
            "file changed while it was read; it is read again next run", True
        )
    sha256, md5, sha1 = (d.hexdigest() for d in digests) if hashes else ("", "", "")
    return FileBytes(data, status.st_size, status.st_mtime_ns, sha256, md5, sha1)


def read_bytes(path: Path) -> tuple[bytes, int]:
    """The file's bytes and its modification time (ns) when read; see :func:`read_file`."""
    read = read_file(path, hashes=False)
    return read.data, read.mtime_ns


def target_size(width: int, height: int, shorter_side: int) -> tuple[int, int]:
    """Size with the shorter side at ``shorter_side``, the longer side capped by MAX_ASPECT."""
    scale = shorter_side / min(width, height)
    if max(width, height) * scale > MAX_ASPECT * shorter_side:
        scale = MAX_ASPECT * shorter_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB for any mode: 16-bit samples keep their high byte, transparency goes over white."""
    if image.mode.startswith("I;16") or image.mode == "I":
        samples: np.ndarray = np.asarray(image, dtype=np.uint32)
        if image.mode.startswith("I;16") or samples.max(initial=0) > 255:
            samples = samples >> 8
        image = Image.fromarray(np.clip(samples, 0, 255).astype(np.uint8), "L")
    elif image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), "L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    background.alpha_composite(rgba)
    return background.convert("RGB")


def check_pixels(width: int, height: int) -> None:
    """Raise :class:`UnreadableImageError` when a declared size is over :data:`MAX_PIXELS`."""
    if width * height > MAX_PIXELS:
        raise UnreadableImageError(
            f"image too large (possible decompression bomb): {width}x{height} pixels exceeds "
            f"the limit of {MAX_PIXELS}; not decoded"
        )


def open_image(data: bytes) -> Image.Image:
    """Open image bytes lazily (only the header is read), registering the HEIF/AVIF opener when
    the bytes need it. Pillow's own bomb warning is silenced: :func:`check_pixels` is the limit."""
    kind = sniff_format(data[:SNIFF_BYTES])
    if kind in _HEIF_FORMATS or kind == "avif":
        _ensure_opener(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def open_upright(data: bytes, draft_side: int) -> tuple[int, int, Image.Image]:
    """Decode image bytes upright and in RGB: (full width, full height, image).

    The size is that of the whole image after EXIF orientation. Images over :data:`MAX_PIXELS`
    are refused before any pixel is decoded; JPEGs are decoded with draft mode at the smallest
    scale that keeps both sides at least ``draft_side``. Every decoding failure is an
    :class:`UnreadableImageError`. The model's input, thumbnails and report pictures all come
    from here, so they agree on orientation, transparency and format support.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = open_image(data)
            width, height = image.size
            check_pixels(width, height)
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", (draft_side, draft_side))
            image = ImageOps.exif_transpose(image)
            # Some plugins (TIFF) report the oriented size already: follow the decoded shape.
            if (image.width > image.height) != (width > height) and image.width != image.height:
                width, height = height, width
            return width, height, _to_rgb(image)
    except UnreadableImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise UnreadableImageError(
            "image too large (possible decompression bomb); not decoded"
        ) from exc
    except UnidentifiedImageError as exc:
        raise UnreadableImageError("not a recognised image format") from exc
    except MemoryError as exc:
        raise UnreadableImageError("not enough memory to decode this image", True) from exc
    except (OSError, ValueError, SyntaxError, EOFError, TypeError) as exc:
        raise UnreadableImageError(f"corrupt image: {plain_reason(exc)}") from exc
    except Exception as exc:  # a decoder plugin's own bug must not stop a run
        raise UnreadableImageError(
            f"the image decoder failed ({type(exc).__name__}: {plain_reason(exc)})"
        ) from exc


def decode_for_model(data: bytes, shorter_side: int) -> tuple[int, int, np.ndarray]:
    """Decode image bytes: (oriented width, oriented height, RGB array for the model): upright,
    uniform bars left out (:mod:`.borders`), resized to ``shorter_side``."""
    width, height, image = open_upright(data, shorter_side)
    return width, height, model_input(image, shorter_side)[0]


def model_input(image: Image.Image, shorter_side: int) -> tuple[np.ndarray, np.ndarray | None]:
    """An upright RGB picture as the model sees it: without its bars, resized (bicubic) so that
    its shorter side is ``shorter_side`` (the longer one capped, see :func:`target_size`); and,
    when it had bars, the whole picture resized the same way (else None).

    The bars are looked for on the resized picture (cheap whatever the original's size); only a
    picture that has some is cropped at full resolution and resized again."""
    resized = np.asarray(
        image.resize(target_size(*image.size, shorter_side), Image.Resampling.BICUBIC),
        dtype=np.uint8,
    )
    top, bottom, left, right = content_box(resized)
    height, width = resized.shape[:2]
    if (top, bottom, left, right) == (0, height, 0, width):
        return resized, None
    sy, sx = image.height / height, image.width / width
    box = (round(left * sx), round(top * sy), round(right * sx), round(bottom * sy))
    image = image.crop(box)
    image = image.resize(target_size(*image.size, shorter_side), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.uint8), resized


def load_for_embedding(
    path: Path, shorter_side: int, larger_side: int | None = None
) -> LoadedImage:
    """Read, hash and decode one image file (also at ``larger_side`` when given); raises
    :class:`UnreadableImageError`."""
    read = read_file(path)
    if not read.data:
        raise UnreadableImageError("empty file (0 bytes)")
    width, height, image = open_upright(read.data, shorter_side)
    pixels, framed = model_input(image, shorter_side)
    larger = decode_for_model(read.data, larger_side)[2] if larger_side else None
    return LoadedImage.of(read, width, height, pixels, larger, framed)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
