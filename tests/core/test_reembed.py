# SPDX-License-Identifier: Apache-2.0
"""Model and descriptor changes are atomic: a re-embed that is cancelled or killed half-way
resumes, never mixes two vector spaces, and queries meanwhile search only current vectors."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imgsim_desktop.core import Cancelled, open_case
from tests.conftest import FIXTURES, ROOT
from tests.core.fakes import FakeEmbedder, fake_head
from tests.core.test_kill import _make_files

N_IMAGES = 13


def _open(case: Path, embedder: FakeEmbedder):
    return open_case(case, embedder=embedder, head=fake_head(dim=embedder.identity.dim))


def test_a_cancelled_reembed_resumes_and_queries_search_only_current_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("imgsim_desktop.core.pipeline.indexing.BATCH_SIZE", 4)
    case_dir = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case_dir)
    old = FakeEmbedder()  # 48-d
    with _open(case_dir, old) as case:
        case.index()
    new = FakeEmbedder("-v2", side=3)  # another model: 27-d vectors
    with _open(case_dir, new) as case:
        with pytest.raises(Cancelled) as info:  # asked at the first check: after one batch
            case.index(cancel=lambda: True)
        kept = info.value.summary
        assert kept is not None and (kept.indexed, kept.pending) == (4, N_IMAGES - 4)
        result = case.query(case_dir / "scene0_a.jpg", k=50, all_scenes=True)
        assert result.vectors_pending == N_IMAGES - 4
        assert result.vectors_total == len(result.results) == 4
        assert result.embedder == new.identity.key
    with _open(case_dir, old) as case:  # the old model's vectors are intact, not mixed in
        result = case.query(case_dir / "scene0_a.jpg", k=50, all_scenes=True)
        assert len(result.results) == N_IMAGES - 4 and result.vectors_pending == 4
    with _open(case_dir, new) as case:
        summary = case.index()
        assert (summary.indexed, summary.pending) == (N_IMAGES - 4, 0)
        result = case.query(case_dir / "scene0_a.jpg", k=50, all_scenes=True)
        assert len(result.results) == N_IMAGES and result.vectors_pending == 0
        assert case.index().indexed == 0


def _indexer(case_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.fake_indexer", str(case_dir), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_reembed_resumes_without_mixing_vector_spaces(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    names = _make_files(case_dir, range(60))
    first = _indexer(case_dir, "--fast")
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    child = _indexer(case_dir, "--side", "3", "--suffix=-v2")  # slow: 0.1 s an image
    time.sleep(2.5)
    assert child.poll() is None, "the re-embed finished before its kill"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    new = FakeEmbedder("-v2", side=3)
    with _open(case_dir, new) as case:
        result = case.query(case_dir / names[0], k=100, all_scenes=True)
        done = len(result.results)
        assert 0 < done < len(names) and result.vectors_pending == len(names) - done
        assert {r.path for r in result.results} <= set(names)
    final = _indexer(case_dir, "--side", "3", "--suffix=-v2", "--fast")
    _out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    with _open(case_dir, new) as case:
        result = case.query(case_dir / names[0], k=100, all_scenes=True)
        assert sorted(r.path for r in result.results) == names
        assert result.vectors_pending == 0
