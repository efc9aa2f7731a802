# SPDX-License-Identifier: Apache-2.0
"""What the window asks when the evidence is not where the catalogue says: an unmounted drive is
forgotten only on the examiner's word; a case whose folder moved is offered the relink (marks,
notes and audit log move, nothing is re-embedded), or indexing as a new case, or nothing."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from imgsim_desktop.core import open_case
from tests.ui.fakes import GatedEmbedder, failure_lines, make_case

N_IMAGES = 5


def answer_with(monkeypatch: pytest.MonkeyPatch, label: str) -> list[str]:
    """Every question box is answered by pressing the button labelled ``label``; returns the
    questions' texts (as pytest-qt's docs patch QMessageBox)."""
    asked: list[str] = []

    def exec_(box: QMessageBox) -> int:
        asked.append(box.text())
        labels = [button.text() for button in box.buttons()]
        assert label in labels, labels
        box.buttons()[labels.index(label)].click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return asked


def indexed_case(folder: Path) -> tuple[Path, str, str]:
    """A case indexed through the core, with a mark and a note on its first file."""
    make_case(folder, N_IMAGES)
    with open_case(folder, embedder=GatedEmbedder()) as case:
        case.index()
        first = next(r for r in case.files() if r.status == "indexed")
        case.set_mark(first.path, first.sha256, "include")
        case.set_note(first.path, first.sha256, "seen on the seized phone")
    return folder, first.path, first.sha256


def catalogue_size(folder: Path) -> int:
    with open_case(folder, log_open=False) as case:
        return sum(1 for _ in case.files()) if case.is_indexed else 0


def idle(window) -> bool:
    return not window.index_panel.cancel.isEnabled() and window.session is not None


@pytest.mark.parametrize("answer", ["Keep them (change nothing)", "Forget them"])
def test_unmounted_evidence_is_forgotten_only_on_confirmation(
    qtbot, make_window, monkeypatch, tmp_path: Path, answer: str
) -> None:
    case, _path, _sha = indexed_case(tmp_path / "drive")
    shutil.move(case, tmp_path / "elsewhere")
    case.mkdir()  # the mount point is there, the drive is not
    asked = answer_with(monkeypatch, answer)
    window = make_window(GatedEmbedder())
    window.open_case(case)
    qtbot.waitUntil(lambda: bool(asked), timeout=20000)
    assert f"0 of {N_IMAGES} known files found in {case}; is the drive mounted?" in asked[0]
    qtbot.waitUntil(lambda: idle(window) and window.session.tasks.running() == [], timeout=20000)
    label = window.index_panel.label.text()
    if answer.startswith("Keep"):
        assert catalogue_size(case) == N_IMAGES
        assert label.startswith("Not indexed, nothing changed:") and "mounted" in label
        assert "evidence not found" in window.status.text()
    else:
        assert catalogue_size(case) == 0
        assert label.startswith("Index up to date: 0 new, 0 unchanged, 5 removed"), label
    assert len(asked) == 1 and window.warnings == []


def test_a_moved_case_is_relinked_with_its_marks_notes_and_audit_log(
    qtbot, make_window, monkeypatch, tmp_path: Path
) -> None:
    old, path, sha = indexed_case(tmp_path / "E_drive")
    new = tmp_path / "F_drive"
    os.rename(old, new)
    asked = answer_with(monkeypatch, "Relink it here")
    embedder = GatedEmbedder()
    window = make_window(embedder)
    window.open_case(new)
    qtbot.waitUntil(lambda: bool(asked), timeout=20000)
    assert f"indexed at {old}, which is gone" in asked[0]
    qtbot.waitUntil(
        lambda: idle(window) and window.index_panel.label.text().startswith("Index up to date"),
        timeout=30000,
    )
    assert window.session.root == new
    assert window.index_panel.label.text().startswith(
        f"Index up to date: 0 new, {N_IMAGES} unchanged"
    )
    assert embedder.embedded == 0  # nothing re-embedded
    assert window.session.marks() == {(path, sha): "include"}
    assert window.session.note(path, sha) == "seen on the seized phone"
    log = (window.session.case.data_dir / "audit.jsonl").read_text().splitlines()
    events = [json.loads(line)["event"] for line in log]
    assert "case_relinked" in events and events.count("mark") == 1
    assert window.warnings == []


@pytest.mark.parametrize("answer", ["Index as a new case", "Do nothing"])
def test_a_moved_case_can_be_indexed_anew_or_left_alone(
    qtbot, make_window, monkeypatch, tmp_path: Path, answer: str
) -> None:
    old, _path, _sha = indexed_case(tmp_path / "E_drive")
    new = tmp_path / "F_drive"
    os.rename(old, new)
    asked = answer_with(monkeypatch, answer)
    embedder = GatedEmbedder()
    window = make_window(embedder)
    window.open_case(new)
    qtbot.waitUntil(lambda: bool(asked), timeout=20000)
    qtbot.waitUntil(lambda: idle(window) and window.session.tasks.running() == [], timeout=20000)
    label = window.index_panel.label.text()
    if answer == "Do nothing":
        assert catalogue_size(new) == 0 and embedder.embedded == 0
        assert label.startswith("Not indexed: this folder holds case") and "relink" in label
    else:
        assert label.startswith(f"Index up to date: {N_IMAGES} new"), label
        assert catalogue_size(new) == N_IMAGES
    assert len(asked) == 1 and window.warnings == []


def test_files_below_a_folder_that_cannot_be_listed_are_shown_missing(
    qtbot, make_window, monkeypatch, tmp_path: Path
) -> None:
    case = make_case(tmp_path / "case", 6)
    make_case(case / "lost", 4, prefix="l")
    with open_case(case, embedder=GatedEmbedder()) as core_case:
        core_case.index()
    real_scandir = os.scandir

    def scandir(path=".", *args):
        if os.fsdecode(path).rstrip("/").endswith("/lost"):
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_scandir(path, *args)

    monkeypatch.setattr(os, "scandir", scandir)
    window = make_window(GatedEmbedder())
    with qtbot.waitSignal(window.overview_shown, timeout=20000):
        window.open_case(case)
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    qtbot.waitUntil(lambda: window.overview.missing == 4, timeout=20000)
    assert "4 missing" in window.status.text()
    assert window.browser.missing.isVisibleTo(window) and "4 known files missing" in (
        window.browser.missing.text()
    )
    failures = failure_lines(window)
    assert sum(line.startswith("lost/l") and "missing" in line for line in failures) == 4
    assert window.overview.images == 10  # kept, and still searchable
    assert ", 4 missing" in window.index_panel.label.text()
