# SPDX-License-Identifier: Apache-2.0
"""Near copies in the window (issue 9): a "near copy" badge on the tiles PDQ finds within the
near-copy distance of the query, a "Near copies only" filter, and a detail pane that states the
similarity, the PDQ distance and the verdict, and what the ranking score is made of.

The window is rendered to PNG in the test's temporary folder (and into the folder named by
``IMGSIM_UI_SHOTS``, to look at)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PIL import Image, ImageOps
from PySide6.QtCore import QModelIndex

from imgsim_desktop.ui.results.model import CaptionRole, NearCopyRole
from tests.conftest import FIXTURES
from tests.ui.fakes import GatedEmbedder


def save_shot(widget, tmp_path: Path, name: str) -> Path:
    """The widget as a PNG in ``tmp_path`` (and in $IMGSIM_UI_SHOTS when set)."""
    image = widget.grab()
    path = tmp_path / name
    assert image.save(str(path))
    extra = os.environ.get("IMGSIM_UI_SHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / name)
    return path


def case_with_copies(folder: Path) -> Path:
    """The fixture photos, plus a mirrored and a half-size re-saved copy of scene0_a."""
    shutil.copytree(FIXTURES / "case", folder)
    copies = folder / "copies"
    copies.mkdir()
    with Image.open(folder / "scene0_a.jpg") as original:
        ImageOps.mirror(original).save(copies / "mirrored.jpg", quality=80)
        half = original.resize((original.width // 2, original.height // 2))
        half.save(copies / "small.jpg", quality=60)
    return folder


def query_window(qtbot, make_window, case: Path):
    window = make_window(GatedEmbedder())
    with qtbot.waitSignal(window.overview_shown, timeout=60000):
        window.open_case(case)
    if window.session.indexing:
        qtbot.waitSignal(window.session.index_ended, timeout=120000).wait()
    with qtbot.waitSignal(window.results_shown, timeout=60000):
        window.run_query(case / "scene0_a.jpg")
    return window


def test_near_copies_have_a_badge_a_filter_and_a_verdict(
    qtbot, make_window, tmp_path: Path
) -> None:
    case = case_with_copies(tmp_path / "case")
    window = query_window(qtbot, make_window, case)
    model, proxy = window.model, window.proxy
    rows = [model.record(r) for r in range(model.rowCount())]
    near = {r.path for r in rows if model.index(rows.index(r)).data(NearCopyRole)}
    assert {"scene0_a.jpg", "copies/mirrored.jpg", "copies/small.jpg"} <= near
    assert len(near) < len(rows)  # the other photos are look-alikes at most
    # The tile's caption is the similarity (a number that means the same on every tile).
    first = model.index(0)
    assert first.data(CaptionRole) == f"sim {rows[0].similarity:.3f}"
    assert "near copy" in first.data(0x03).lower()  # the tooltip (ToolTipRole) says so
    qtbot.waitUntil(lambda: model.loaded_count() >= 3, timeout=20000)
    save_shot(window, tmp_path, "near_copies_all.png")

    window.near_copies_only.setChecked(True)
    assert proxy.rowCount() == len(near)
    assert all(proxy.index(r, 0).data(NearCopyRole) for r in range(proxy.rowCount()))
    save_shot(window, tmp_path, "near_copies_only.png")
    window.near_copies_only.setChecked(False)
    assert proxy.rowCount() == len(rows)

    # The detail pane: the verdict, the similarity and the PDQ distance, and the score explained.
    mirrored = next(
        r for r in range(proxy.rowCount()) if proxy.index(r, 0).data(0) == "mirrored.jpg"
    )
    window.view.setCurrentIndex(proxy.index(mirrored, 0))
    facts = window.detail.facts
    record = model.record(proxy.mapToSource(proxy.index(mirrored, 0)).row())
    assert facts["Near copy"].text() == f"yes (PDQ distance {record.pdq_distance} ≤ 31)"
    assert facts["PDQ distance"].text() == f"{record.pdq_distance} of 256 bits (near copy at ≤ 31)"
    assert facts["Similarity"].text().startswith(f"{record.similarity:.3f} (deep-vector cosine")
    assert "ranks above every look-alike" in facts["Score"].toolTip()
    score = facts["Score"].text()
    assert score.startswith(f"{record.score:.3f} = similarity {record.similarity:.3f}")
    assert "near-copy bonus 1.000" in score
    save_shot(window, tmp_path, "near_copy_detail.png")

    look_alike = next(
        r for r in range(proxy.rowCount()) if not proxy.index(r, 0).data(NearCopyRole)
    )
    window.view.setCurrentIndex(proxy.index(look_alike, 0))
    verdict = facts["Near copy"].text()
    assert verdict.startswith("no (PDQ distance") or verdict.startswith("unknown")
    assert proxy.index(look_alike, 0).parent() == QModelIndex()
