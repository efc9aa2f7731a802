# SPDX-License-Identifier: Apache-2.0
"""A scan never forgets what it could not see: unmounted drives, unlistable folders, mass loss."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import EvidenceUnavailableError
from imgsim_desktop.core.evidence import casefolder
from tests.conftest import FIXTURES
from tests.core.fakes import FakeEmbedder, fake_head

N_IMAGES = 13
N_FILES = 14  # with notes.txt


def _open(case: Path, embedder: FakeEmbedder | None = None):
    return open_case(case, embedder=embedder or FakeEmbedder(), head=fake_head())


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    case_dir = tmp_path / "ev1"
    shutil.copytree(FIXTURES / "case", case_dir)
    with _open(case_dir) as case:
        case.index()
    return case_dir


def _counts(case_dir: Path) -> tuple[int, int]:
    with _open(case_dir) as case:
        records = list(case.files())
        result = case.query(case_dir.parent / "probe.jpg", k=50, all_scenes=True)
    return len(records), len(result.results)


def test_an_empty_case_folder_is_refused_and_nothing_is_forgotten(indexed: Path) -> None:
    shutil.copy(indexed / "scene0_a.jpg", indexed.parent / "probe.jpg")
    before = _counts(indexed)
    away = indexed.with_name("ev1.away")
    indexed.rename(away)
    indexed.mkdir()  # the mount point is there, the drive is not
    embedder = FakeEmbedder()
    with _open(indexed, embedder) as case, pytest.raises(EvidenceUnavailableError) as info:
        case.index()
    assert info.value.found == 0 and info.value.known == N_FILES
    message = str(info.value)
    assert message.startswith(f"0 of {N_FILES} known files found in {indexed}")
    assert "mounted" in message and "--allow-removal" in message
    indexed.rmdir()
    away.rename(indexed)
    assert _counts(indexed) == before
    with _open(indexed, embedder) as case:
        summary = case.index()
    assert (summary.indexed, summary.unchanged, summary.removed) == (0, N_IMAGES, 0)
    assert embedder.embedded == 0


def test_allow_removal_forgets_the_files_that_are_gone(indexed: Path) -> None:
    for path in indexed.rglob("*"):
        if path.is_file():
            path.unlink()
    with _open(indexed) as case:
        summary = case.index(allow_removal=True)
        assert summary.removed == N_FILES
        assert list(case.files()) == []


def test_more_than_half_vanishing_at_once_is_refused(indexed: Path) -> None:
    names = sorted(p for p in indexed.rglob("*") if p.is_file())
    for path in names[:8]:  # 8 of 14: more than half
        path.unlink()
    with _open(indexed) as case:
        with pytest.raises(EvidenceUnavailableError, match=f"6 of {N_FILES} known files found"):
            case.index()
        assert len(list(case.files())) == N_FILES
    names[8].unlink()  # with removal allowed they go
    with _open(indexed) as case:
        assert case.index(allow_removal=True).removed == 9


def test_a_few_files_gone_are_forgotten_as_before(indexed: Path) -> None:
    (indexed / "scene0_b.png").unlink()
    with _open(indexed) as case:
        summary = case.index()
    assert (summary.removed, summary.unchanged) == (1, N_IMAGES - 1)


@contextlib.contextmanager
def _unlistable(folder: Path) -> Iterator[None]:
    """Listing ``folder`` fails as it would on a damaged card or without permission (tests run
    as root in CI, where chmod does not stop a read)."""
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if os.path.realpath(path) == os.path.realpath(folder):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(casefolder.os, "scandir", scandir)
        yield


def test_files_below_an_unlistable_folder_are_kept_as_missing(indexed: Path) -> None:
    shutil.copy(indexed / "scene0_a.jpg", indexed.parent / "probe.jpg")
    below = sorted(p.relative_to(indexed).as_posix() for p in (indexed / "sub").rglob("*.*"))
    assert len(below) == 4
    with _unlistable(indexed / "sub"), _open(indexed) as case:
        summary = case.index()
        records = {r.path: r for r in case.files()}
        found = {
            r.path for r in case.query(indexed.parent / "probe.jpg", k=50, all_scenes=True).results
        }
    assert (summary.removed, summary.missing, summary.indexed) == (0, 4, 0)
    assert {"path": "sub", "error": "cannot read folder: Permission denied"} in summary.failed
    for path in below:
        assert records[path].shown_status == "missing" and records[path].status == "indexed"
        assert path in found  # still searchable: their vectors describe the evidence seen
    with _open(indexed) as case:
        summary = case.index()
        assert summary.missing == 0 and summary.unchanged == N_IMAGES and summary.indexed == 0
        assert all(r.shown_status != "missing" for r in case.files())


def test_an_unreadable_case_root_is_refused(indexed: Path) -> None:
    with _unlistable(indexed), _open(indexed) as case:
        with pytest.raises(EvidenceUnavailableError, match="cannot be read"):
            case.index()
        summary = case.index(allow_removal=True)  # allowing removal forgets nothing unseen
        assert (summary.removed, summary.missing) == (0, N_FILES)
    with _open(indexed) as case:
        assert len(list(case.files())) == N_FILES
