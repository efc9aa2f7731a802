# SPDX-License-Identifier: Apache-2.0
"""One bad file never stops a run: any exception while reading or decoding one file is recorded
against it in plain words; passing failures are retried on the next run, decode failures only
when the file changes; files over the size cap are reported, not read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from imgsim_desktop.core import open_case
from imgsim_desktop.core.evidence import imagefile
from tests.conftest import FIXTURES
from tests.core.badcorpus import build_bad_corpus
from tests.core.fakes import FakeEmbedder, fake_head

N_IMAGES = 13


class PluginBug(Exception):
    """What a third-party decoder plugin might raise."""


#: Image widths that make the patched decoder fail, and how.
FAILING = {
    123: ValueError("bad tile <PIL.TiffImagePlugin.TiffImageFile object at 0x7f3a2c1d0>"),
    77: PluginBug("internal state <plugin.State object at 0x55d0c0ffee00> lost"),
    55: MemoryError(),
}


def _case(tmp_path: Path) -> Path:
    case_dir = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case_dir)
    for width in FAILING:
        Image.new("RGB", (width, 40), (width, 90, 200)).save(case_dir / f"w{width}.png")
    return case_dir


def _open(case_dir: Path, embedder: FakeEmbedder | None = None):
    return open_case(case_dir, embedder=embedder or FakeEmbedder(), head=fake_head())


def test_any_decoder_exception_is_recorded_in_plain_words_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    case_dir = _case(tmp_path)
    real = imagefile._to_rgb

    def failing(image: Image.Image) -> Image.Image:
        if image.width in FAILING:
            raise FAILING[image.width]
        return real(image)

    with pytest.MonkeyPatch.context() as patch, _open(case_dir) as case:
        patch.setattr(imagefile, "_to_rgb", failing)
        summary = case.index()
    failed = {f["path"]: f["error"] for f in summary.failed}
    assert summary.indexed == N_IMAGES and set(failed) == {"w123.png", "w77.png", "w55.png"}
    assert failed["w123.png"] == "corrupt image: bad tile"
    assert failed["w77.png"] == "the image decoder failed (PluginBug: internal state lost)"
    assert failed["w55.png"] == "not enough memory to decode this image"
    assert not any("0x" in e or "object at" in e for e in failed.values())
    with _open(case_dir) as case:  # the decoder works again
        rerun = case.index()
        statuses = {r.path: r.status for r in case.files()}
    assert rerun.indexed == 1  # only the memory failure is worth retrying unchanged
    assert statuses["w55.png"] == "indexed"
    assert statuses["w123.png"] == statuses["w77.png"] == "failed"
    os.utime(case_dir / "w123.png", ns=(1, 1))  # a changed file is read again
    with _open(case_dir) as case:
        assert case.index().indexed == 1


def test_a_passing_read_failure_is_retried_even_if_the_file_did_not_change(
    tmp_path: Path,
) -> None:
    case_dir = _case(tmp_path)
    real_open = open

    def refusing_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).name == "scene1_a.jpg":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch, _open(case_dir) as case:
        patch.setattr(imagefile, "open", refusing_open, raising=False)
        summary = case.index()
    assert {f["path"]: f["error"] for f in summary.failed}["scene1_a.jpg"] == (
        "permission denied: the file cannot be read"
    )
    embedder = FakeEmbedder()
    with _open(case_dir, embedder) as case:
        rerun = case.index()
    assert rerun.indexed == 1 and embedder.embedded == 1
    assert "scene1_a.jpg" not in {f["path"] for f in rerun.failed}


def test_a_file_over_the_size_cap_is_reported_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_dir = _case(tmp_path)
    big = case_dir / "disk_image.jpg"
    big.write_bytes(b"\xff\xd8\xff" + os.urandom(5000))
    monkeypatch.setattr(imagefile, "MAX_IMAGE_BYTES", 4096)
    reads: list[str] = []
    real_open = open

    class Spy:
        """A file handle that records reads."""

        def __init__(self, handle) -> None:  # type: ignore[no-untyped-def]
            self._handle = handle

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

        def fileno(self) -> int:
            return self._handle.fileno()

        def read(self, size: int = -1) -> bytes:
            reads.append(size)
            return self._handle.read(size)

    def spying_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = real_open(path, *args, **kwargs)
        return Spy(handle) if Path(path).name == "disk_image.jpg" else handle

    monkeypatch.setattr(imagefile, "open", spying_open, raising=False)
    with _open(case_dir) as case:
        summary = case.index()
    failed = {f["path"]: f["error"] for f in summary.failed}
    assert (
        failed["disk_image.jpg"] == "file is 4.9 KB, over the 4.0 KB limit for one image; not read"
    )
    assert reads == []
    with _open(case_dir) as case:  # not retried while it does not change
        assert case.index().indexed == 0


def test_the_bad_corpus_is_reported_without_python_internals(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    build_bad_corpus(case_dir)
    with _open(case_dir) as case:
        summary = case.index()
    assert summary.failed
    for failure in summary.failed:
        assert "object at 0x" not in failure["error"] and "<_io" not in failure["error"]
