# SPDX-License-Identifier: Apache-2.0
"""A bad-input corpus built at run time: every kind of file a seized device throws at the indexer.

``build_bad_corpus(folder)`` copies the synthetic fixture images (the good files) and adds one file
of every bad kind, returning which names must be indexed and which must be reported. Nothing here
is committed as a binary.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from tests.conftest import FIXTURES

NON_UTF8 = b"caf\xe9_latin1.jpg"
DEPTH = 60


@dataclass
class Corpus:
    """Names (display paths relative to the case) that must be indexed or reported."""

    good: set[str] = field(default_factory=set)
    bad: set[str] = field(default_factory=set)
    #: files made unreadable by permissions (None when the tests run as root: simulated instead)
    unreadable: str | None = None


def bomb_png() -> bytes:
    """A valid 1x1 PNG whose header claims 50000x50000 pixels (CRC fixed up)."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    png = bytearray(buffer.getvalue())
    ihdr = bytearray(png[16:29])
    ihdr[0:8] = struct.pack(">II", 50000, 50000)
    png[16:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(png)


def build_bad_corpus(case: Path) -> Corpus:
    corpus = Corpus()
    shutil.copytree(FIXTURES / "case", case)
    for path in case.rglob("*"):
        if path.suffix in (".jpg", ".png"):
            corpus.good.add(path.relative_to(case).as_posix())
    good_jpeg = (case / "scene1_a.jpg").read_bytes()
    good_png = (case / "scene0_b.png").read_bytes()

    def bad(name: str, data: bytes) -> None:
        (case / name).parent.mkdir(parents=True, exist_ok=True)
        (case / name).write_bytes(data)
        corpus.bad.add(name)

    bad("zero.jpg", b"")
    bad("truncated.jpg", good_jpeg[: len(good_jpeg) * 4 // 10])
    bad("truncated.png", good_png[: len(good_png) // 2])
    bad("random.jpg", random.Random(7).randbytes(50_000))
    bad("notes.png", b"this is not an image\n" * 100)
    bad("bomb.png", bomb_png())
    bad("header_only.gif", b"GIF89a\x10\x00\x10\x00")
    (case / "sub" / "renamed_jpeg.dat").write_bytes(good_jpeg)
    corpus.good.add("sub/renamed_jpeg.dat")
    Image.new("RGB", (1, 100_000), (200, 30, 30)).save(case / "sliver.png")
    corpus.good.add("sliver.png")
    with open(os.path.join(os.fsencode(case / "sub"), NON_UTF8), "wb") as handle:
        handle.write(good_jpeg)
    corpus.good.add("sub/" + NON_UTF8.decode("utf-8", "backslashreplace"))
    deep = case.joinpath(*(["d"] * DEPTH))
    deep.mkdir(parents=True)
    (deep / "deep.jpg").write_bytes(good_jpeg)
    corpus.good.add("/".join(["d"] * DEPTH + ["deep.jpg"]))
    os.symlink("does-not-exist.jpg", case / "broken_link.jpg")
    corpus.bad.add("broken_link.jpg")
    os.symlink("self_loop_b.jpg", case / "self_loop_a.jpg")
    os.symlink("self_loop_a.jpg", case / "self_loop_b.jpg")
    corpus.bad |= {"self_loop_a.jpg", "self_loop_b.jpg"}
    (case / "sub" / "deeper").mkdir()
    os.symlink("..", case / "sub" / "deeper" / "loop")  # a folder loop inside the case
    os.symlink("/etc", case / "outside")  # never followed out of the case
    corpus.bad.add("outside")
    locked = case / "no_permission.jpg"
    locked.write_bytes(good_jpeg)
    locked.chmod(0)
    corpus.bad.add("no_permission.jpg")
    corpus.unreadable = "no_permission.jpg"
    return corpus
