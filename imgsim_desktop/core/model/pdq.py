# SPDX-License-Identifier: Apache-2.0
"""PDQ perceptual hashes (Meta's open algorithm, through the ``pdqhash`` package) and the Hamming
scan that finds near copies.

A PDQ hash is 256 bits and a quality from 0 to 100 (how much detail the picture has to hash;
below :data:`MIN_QUALITY` a hash says little and is not compared: flat pictures, skies, blank
screens all hash alike). Each indexed image is hashed
from the picture the model sees (shorter side 224: the copies PDQ should find are resized and
re-compressed anyway, and it measured as well as hashing a larger decode); a query is hashed in
its 8 dihedral variants (4 turns, mirrored or not), so turned and mirrored copies are found.
Two pictures whose hashes are within :data:`NEAR_COPY_DISTANCE` bits are near copies.

The scan is a brute-force Hamming distance over all of a case's hashes, kept as four contiguous
64-bit columns and walked in cache-sized blocks with in-place numpy operations: a million hashes
against 8 query hashes takes tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from imgsim_desktop.core.errors import ModelError

#: Hashes of lower quality are not compared. PDQ's reference suggests 50; on the copy bench,
#: queries of quality 17 to 49 still matched their copies within the near-copy distance and no
#: other photo came closer than at 50 (1 in 150,000 either way), while the gate at 50 lost 4% of
#: the copies. Under 20 a picture is close to flat.
MIN_QUALITY = 20
#: Default Hamming distance (of 256 bits) at or under which a result is a near copy.
NEAR_COPY_DISTANCE = 31
#: Stored as 32 hash bytes then one quality byte.
STORED_BYTES = 33
_BLOCK = 1 << 15


@dataclass(frozen=True)
class PdqHash:
    """One picture's hash: 32 bytes (the 256 bits, big-endian) and its quality (0-100)."""

    bits: bytes
    quality: int

    def to_bytes(self) -> bytes:
        return self.bits + bytes([self.quality])

    @classmethod
    def from_bytes(cls, data: bytes) -> PdqHash:
        return cls(bytes(data[:32]), int(data[32]))

    @property
    def usable(self) -> bool:
        return self.quality >= MIN_QUALITY


def _pack(vector: np.ndarray) -> bytes:
    return np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes()


def _pdqhash() -> Any:
    try:
        import pdqhash
    except ImportError as exc:
        raise ModelError(f"the 'pdqhash' package (PDQ hashes) cannot be loaded: {exc}") from exc
    return pdqhash


def pdq_hash(pixels: np.ndarray) -> PdqHash:
    """The PDQ hash of an RGB ``uint8`` picture."""
    vector, quality = _pdqhash().compute(np.ascontiguousarray(pixels))
    return PdqHash(_pack(vector), int(quality))


def pdq_dihedral(pixels: np.ndarray) -> tuple[list[bytes], int]:
    """The hashes of the picture's 8 dihedral variants (turns and mirrors) and its quality."""
    vectors, quality = _pdqhash().compute_dihedral(np.ascontiguousarray(pixels))
    return [_pack(v) for v in vectors], int(quality)


def _words(hashes: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 -> (n, 4) uint64 (big-endian words: bit order does not matter to Hamming)."""
    return np.ascontiguousarray(hashes, dtype=np.uint8).view(">u8").astype(np.uint64).reshape(-1, 4)


class HashMatrix:
    """Many hashes, ready for the scan.

    Attributes:
        count: how many hashes.
        usable: (count,) bool: quality high enough to compare.
    """

    def __init__(self, hashes: np.ndarray, quality: np.ndarray) -> None:
        """``hashes`` (n, 32) uint8, ``quality`` (n,) 0-100."""
        words = _words(hashes)
        self._columns = [np.ascontiguousarray(words[:, j]) for j in range(4)]
        self.count = len(hashes)
        self.usable = np.asarray(quality) >= MIN_QUALITY

    def distances(self, query: list[bytes]) -> np.ndarray:
        """(count,) uint16: the smallest Hamming distance from each hash to any query hash
        (unusable hashes get 257, more than any distance)."""
        words = _words(np.frombuffer(b"".join(query), dtype=np.uint8).reshape(-1, 32))
        out = np.empty(self.count, np.uint16)
        scratch = np.empty(_BLOCK, np.uint64)
        counts = np.empty(_BLOCK, np.uint8)
        total = np.empty(_BLOCK, np.uint16)
        for start in range(0, self.count, _BLOCK):
            end = min(self.count, start + _BLOCK)
            size = end - start
            best = out[start:end]
            best.fill(257)
            for h in words:
                total[:size] = 0
                for j in range(4):
                    np.bitwise_xor(self._columns[j][start:end], h[j], out=scratch[:size])
                    np.bitwise_count(scratch[:size], out=counts[:size])
                    np.add(total[:size], counts[:size], out=total[:size])
                np.minimum(best, total[:size], out=best)
        out[~self.usable] = 257
        return out
