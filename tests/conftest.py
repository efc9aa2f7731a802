# SPDX-License-Identifier: Apache-2.0
"""Shared test fixtures: app data redirected into tmp, read-only case copies, manifests."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def imgsim_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test gets its own app data folder (IMGSIM_HOME), set on a patcher of its own so a
    test's ``monkeypatch.undo()`` cannot send it to the real one."""
    home = tmp_path_factory.mktemp("imgsim-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMGSIM_HOME", str(home))
        yield home


@pytest.fixture(autouse=True, scope="session")
def real_app_data_untouched() -> Iterator[None]:
    """Fail the run if any test wrote into the user's real imgsim data or cache folder."""
    real = [
        Path(platformdirs.user_data_dir("imgsim-desktop")),
        Path(platformdirs.user_cache_dir("imgsim-desktop")),
    ]
    before = {path: path.exists() for path in real}
    yield
    created = [str(path) for path in real if path.exists() and not before[path]]
    assert not created, f"tests wrote into the real app folders: {created}"


def make_readonly_copy(source: Path, destination: Path) -> Path:
    """Copy ``source`` to ``destination`` and remove every write permission below it."""
    shutil.copytree(source, destination, symlinks=True)
    for folder, _dirs, files in os.walk(destination):
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    for folder, _dirs, _files in sorted(os.walk(destination), key=lambda t: -len(t[0])):
        Path(folder).chmod(0o555)
    return destination


def make_writable(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        Path(folder).chmod(0o755)
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(0o644)


def manifest(root: Path) -> list[tuple[str, int, int, str]]:
    """(path, size, mtime_ns, sha256) of every entry below ``root``; folders hash to ''."""
    rows = []
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(folder, name)
            info = path.lstat()
            digest = (
                hashlib.sha256(path.read_bytes()).hexdigest()
                if path.is_file() and not path.is_symlink()
                else ""
            )
            rows.append((str(path.relative_to(root)), info.st_size, info.st_mtime_ns, digest))
    return sorted(rows)


@pytest.fixture
def fixture_case(tmp_path: Path):
    """A read-only copy of tests/fixtures/case; made writable again after the test."""
    case = make_readonly_copy(FIXTURES / "case", tmp_path / "case")
    yield case
    make_writable(case)


def shared_data(name: str) -> Path:
    """A folder of ../shared/data, or skip the test with a clear message."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(
            f"../shared/data/{name} is absent (public evaluation images live beside the repo)"
        )
    return path
