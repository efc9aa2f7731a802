# SPDX-License-Identifier: Apache-2.0
"""An unreadable file leaves no cyclic garbage behind (its error is kept without its traceback):
with some twenty objects of it per file, every full garbage collection of a run over 200,000
unreadable files took a few hundred milliseconds with the GIL held, stalling a GUI beside it."""

from __future__ import annotations

import gc
from pathlib import Path

from imgsim_desktop.core import open_case
from tests.core.fakes import FakeEmbedder, fake_head

FILES = 300


def _garbage_of_a_run(folder: Path, files: int) -> int:
    """Cyclic garbage left by indexing ``files`` unreadable files (collected with gc paused)."""
    folder.mkdir()
    for i in range(files):
        (folder / f"IMG_{i:04d}.jpg").touch()  # empty: unreadable
    gc.collect()
    gc.disable()
    try:
        with open_case(folder, embedder=FakeEmbedder(), head=fake_head()) as opened:
            summary = opened.index()
        garbage = gc.collect()
    finally:
        gc.enable()
    assert len(summary.failed) == files
    return garbage


def test_unreadable_files_leave_no_cyclic_garbage(tmp_path: Path) -> None:
    # A run has some garbage of its own (threads, the catalogue); what matters is per file.
    baseline = _garbage_of_a_run(tmp_path / "few", 10)
    garbage = _garbage_of_a_run(tmp_path / "case", FILES)
    assert garbage - baseline < FILES // 2, f"{garbage - baseline} more objects for {FILES} files"
