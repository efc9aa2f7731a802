# SPDX-License-Identifier: Apache-2.0
"""A case is its evidence, not its path: ids, fingerprints, relink with marks, notes and log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from imgsim_desktop import cli
from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import CaseMovedError, RelinkError
from imgsim_desktop.core.store.cases.registry import known_cases, relink_case
from tests.conftest import FIXTURES
from tests.core.fakes import FakeEmbedder, fake_head

N_IMAGES = 13


def _open(case: Path, embedder: FakeEmbedder | None = None):
    return open_case(case, embedder=embedder or FakeEmbedder(), head=fake_head())


@pytest.fixture
def marked(tmp_path: Path) -> tuple[Path, str, str]:
    """An indexed case with one file marked and annotated: (folder, path, sha256)."""
    case_dir = tmp_path / "mnt" / "ev1"
    shutil.copytree(FIXTURES / "case", case_dir)
    with _open(case_dir) as case:
        case.index()
        record = next(r for r in case.files() if r.path == "sub/scene5_b.jpg")
        case.set_mark(record.path, record.sha256, "include")
        case.set_note(record.path, record.sha256, "the same bedspread")
    return case_dir, record.path, record.sha256 or ""


def test_relink_moves_marks_notes_and_audit_log_and_embeds_nothing(
    marked: tuple[Path, str, str], tmp_path: Path
) -> None:
    old, path, sha = marked
    case_id = next(i.id for i in known_cases())
    new = tmp_path / "media" / "usb" / "ev1"
    new.parent.mkdir(parents=True)
    old.rename(new)  # another workstation, another drive letter
    before, after = relink_case(str(old), new)
    assert before.id == after.id == case_id
    embedder = FakeEmbedder()
    with _open(new, embedder) as case:
        summary = case.index()
        mark = case.mark_for(path, sha)
        events = [e.event for e in case.audit.entries()]
        assert case.audit.verify() == []
        assert case.info.id == case_id
    assert (summary.indexed, summary.unchanged, summary.removed) == (0, N_IMAGES, 0)
    assert embedder.embedded == 0
    assert mark is not None and mark.mark == "include" and mark.note == "the same bedspread"
    assert {"mark", "note", "case_relinked"} <= set(events)
    assert events.index("case_relinked") > events.index("note")  # the old log goes on
    [info] = known_cases()
    assert (info.root, info.id, info.available) == (str(new), case_id, True)


def test_relink_refuses_a_folder_that_does_not_hold_the_evidence(
    marked: tuple[Path, str, str], tmp_path: Path
) -> None:
    old, _path, _sha = marked
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "case", other)
    changed = other / "scene2_a.jpg"
    changed.write_bytes(changed.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    with pytest.raises(RelinkError, match="sampled files have other content"):
        relink_case(str(old), other)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RelinkError, match=r"only 0 of \d+ sampled files are in"):
        relink_case(str(old), empty)
    with pytest.raises(RelinkError, match="no indexed case"):
        relink_case(str(tmp_path / "never"), empty)
    with _open(old) as case:  # nothing moved
        assert case.index().unchanged == N_IMAGES


def test_indexing_moved_evidence_names_the_relink_instead_of_embedding_again(
    marked: tuple[Path, str, str], tmp_path: Path
) -> None:
    old, _path, _sha = marked
    new = tmp_path / "ev1-copy"
    old.rename(new)
    embedder = FakeEmbedder()
    with _open(new, embedder) as case, pytest.raises(CaseMovedError) as info:
        case.index()
    assert f"imgsim relink {old} {new}" in str(info.value)
    assert info.value.old_root == str(old) and embedder.embedded == 0
    with _open(new, embedder) as case:  # the examiner may still want a new case
        assert case.index(new_case=True).indexed == N_IMAGES


def test_cli_relink_and_cases(marked: tuple[Path, str, str], tmp_path: Path, capsys) -> None:
    old, _path, _sha = marked
    assert cli.main(["cases", "--json"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["folder"] == str(old) and row["available"] and row["files"] == N_IMAGES + 1
    new = tmp_path / "moved"
    old.rename(new)
    assert cli.main(["cases", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["available"] is False
    assert cli.main(["relink", str(old), str(new)]) == 0
    assert "relinked" in capsys.readouterr().out
    assert cli.main(["relink", str(old), str(new)]) == 1  # nothing left at the old path
    assert "no indexed case" in capsys.readouterr().err
    assert cli.main(["cases", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["folder"] == str(new) and row["available"]
