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


def test_unreadable_files_leave_no_cyclic_garbage(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    for i in range(FILES):
        (case / f"IMG_{i:04d}.jpg").touch()  # empty: unreadable
    gc.collect()
    gc.disable()
    try:
        with open_case(case, embedder=FakeEmbedder(), head=fake_head()) as opened:
            summary = opened.index()
        garbage = gc.collect()
    finally:
        gc.enable()
    assert len(summary.failed) == FILES
    assert garbage < FILES // 2, f"{garbage} objects of cyclic garbage for {FILES} files"
