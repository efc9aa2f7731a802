# SPDX-License-Identifier: Apache-2.0
"""Facts about one evidence file, read at export time: hashes, times, size, EXIF, a thumbnail.

Each file is read once; SHA-256, MD5 and SHA-1 are computed over exactly those bytes, and the
dimensions, EXIF fields and thumbnail come from decoding the same bytes, so everything a report
says about a file describes one and the same version of it. A file that cannot be read or decoded
still gets an entry, with the reason.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PIL import Image

from imgsim_desktop.core.evidence.imagefile import open_image, open_upright, plain_reason
from imgsim_desktop.core.paths import printable

THUMB_QUALITY = 80

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATE_ORIGINAL, _DATE_DIGITIZED, _DATE = 0x9003, 0x9004, 0x0132
_OFFSET_ORIGINAL = 0x9011
_MAKE, _MODEL = 0x010F, 0x0110


@dataclass(frozen=True)
class FileEvidence:
    """One file as found at export time.

    Attributes:
        path: absolute path of the file.
        error: why the file could not be read (or decoded), else None.
        size: size in bytes of the bytes hashed.
        modified_utc: modification time (ISO 8601, UTC).
        sha256: hex SHA-256 of the file's bytes.
        md5: hex MD5 of the same bytes.
        sha1: hex SHA-1 of the same bytes.
        width: width after EXIF orientation.
        height: height after EXIF orientation.
        image_format: the format Pillow decoded (``JPEG``, ``PNG`` ...).
        exif_date: EXIF DateTimeOriginal (or DateTimeDigitized / DateTime), as stored.
        exif_camera: EXIF Make and Model.
        gps_latitude: decimal degrees (north positive) from EXIF GPS, else None.
        gps_longitude: decimal degrees (east positive) from EXIF GPS, else None.
        thumbnail_jpeg: a small upright JPEG of the image, else None.
    """

    path: str
    error: str | None = None
    size: int | None = None
    modified_utc: str | None = None
    sha256: str | None = None
    md5: str | None = None
    sha1: str | None = None
    width: int | None = None
    height: int | None = None
    image_format: str | None = None
    exif_date: str | None = None
    exif_camera: str | None = None
    gps_latitude: float | None = None
    gps_longitude: float | None = None
    thumbnail_jpeg: bytes | None = None

    @property
    def gps(self) -> str | None:
        """``lat, lon`` in decimal degrees, or None."""
        if self.gps_latitude is None or self.gps_longitude is None:
            return None
        return f"{self.gps_latitude:.6f}, {self.gps_longitude:.6f}"

    @property
    def dimensions(self) -> str | None:
        return None if self.width is None else f"{self.width}x{self.height}"


def examine_file(path: Path, thumb_side: int) -> FileEvidence:
    """Read ``path`` once: hashes, size and time from its bytes, then EXIF and a thumbnail."""
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            data = handle.read()
    except OSError as exc:
        return FileEvidence(printable(path), error=f"cannot read file: {exc.strerror or exc}")
    facts: dict[str, Any] = {
        "size": len(data),
        "modified_utc": datetime.fromtimestamp(status.st_mtime_ns / 1e9, timezone.utc).isoformat(
            timespec="seconds"
        ),
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
    }
    try:
        facts.update(_decode(data, thumb_side))
    except Exception as exc:  # Pillow raises many types for bad data; the hashes still stand
        facts["error"] = f"not a decodable image: {plain_reason(exc)}"
    return FileEvidence(printable(path), **facts)


def _decode(data: bytes, thumb_side: int) -> dict[str, Any]:
    header = open_image(data)  # the header only: format, and EXIF as stored
    facts: dict[str, Any] = {"image_format": header.format, **_exif_facts(header.getexif())}
    width, height, image = open_upright(data, thumb_side)
    facts["width"], facts["height"] = width, height
    image.thumbnail((thumb_side, thumb_side), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=THUMB_QUALITY)
    facts["thumbnail_jpeg"] = out.getvalue()
    return facts


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).replace("\x00", "").strip()
    return text or None


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    return -degrees if _text(ref) in ("S", "W") else degrees


def _exif_facts(exif: Image.Exif) -> dict[str, Any]:
    """Date, camera and GPS position from EXIF (missing or malformed fields give None)."""
    facts: dict[str, Any] = {}
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        date = _text(sub.get(_DATE_ORIGINAL) or sub.get(_DATE_DIGITIZED) or exif.get(_DATE))
        offset = _text(sub.get(_OFFSET_ORIGINAL))
        facts["exif_date"] = f"{date} {offset}" if date and offset else date
        camera = " ".join(t for t in (_text(exif.get(_MAKE)), _text(exif.get(_MODEL))) if t)
        facts["exif_camera"] = camera or None
        gps = exif.get_ifd(_GPS_IFD)
        if gps:
            lat, lon = _degrees(gps.get(2), gps.get(1)), _degrees(gps.get(4), gps.get(3))
            if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
                facts["gps_latitude"], facts["gps_longitude"] = round(lat, 7), round(lon, 7)
    except Exception:  # malformed EXIF must not stop a report; the fields stay empty
        pass
    return facts
