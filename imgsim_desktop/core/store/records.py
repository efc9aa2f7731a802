# SPDX-License-Identifier: Apache-2.0
"""The catalogue's row types: what an indexing run writes and what listings and results read.

Statuses are an enum whose values are the strings stored in SQLite and printed by the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class FileStatus(str, Enum):
    """What happened to a file the last time it was looked at."""

    INDEXED = "indexed"
    FAILED = "failed"
    NOT_IMAGE = "not_image"
    #: Shown (never stored) for a file below a folder the last scan could not list: kept as it
    #: was, searchable if it was indexed, and looked at again when the folder can be read.
    MISSING = "missing"


STATUS_INDEXED = FileStatus.INDEXED.value
STATUS_FAILED = FileStatus.FAILED.value
STATUS_NOT_IMAGE = FileStatus.NOT_IMAGE.value
STATUS_MISSING = FileStatus.MISSING.value


@dataclass(frozen=True)
class KnownFile:
    """What the catalogue remembers of a file to plan the next run.

    Attributes:
        retry: the last failure was passing (I/O, permission, changed while read): read it again.
        missing: the file sat below a folder the last scan could not list.
        embedder_id: the embedder that made its vector (None when it has none).
    """

    id: int
    size: int
    mtime_ns: int
    status: str
    retry: bool = False
    missing: bool = False
    embedder_id: int | None = None


@dataclass(frozen=True)
class FileRow:
    """A file's row as written after an attempt to index it (vector None when it failed).

    ``extras`` holds further per-file data stored with the vector, by kind (bytes each).
    """

    relpath: bytes
    size: int
    mtime_ns: int
    status: str
    sha256: str | None = None
    md5: str | None = None
    sha1: str | None = None
    width: int | None = None
    height: int | None = None
    scene: str | None = None
    scene_confidence: float | None = None
    scene_probs: np.ndarray | None = None
    vector: np.ndarray | None = None
    error: str | None = None
    retry: bool = False
    extras: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class FileRecord:
    """A catalogue row as read back for listings and results.

    Attributes:
        status: ``indexed``, ``failed`` or ``not_image`` (see :attr:`shown_status`).
        missing: below a folder the last scan could not list (kept, not forgotten).
        retry: a failure that the next run tries again.
    """

    id: int
    path: str
    relpath: bytes
    size: int
    mtime_ns: int
    sha256: str | None
    md5: str | None
    sha1: str | None
    width: int | None
    height: int | None
    scene: str | None
    scene_confidence: float | None
    status: str
    error: str | None
    retry: bool = False
    missing: bool = False

    @property
    def shown_status(self) -> str:
        """The status as listed: ``missing`` wins over what the file was before."""
        return STATUS_MISSING if self.missing else self.status
