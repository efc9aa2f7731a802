# SPDX-License-Identifier: Apache-2.0
"""``kill -9`` of a real indexing process, again and again: nothing lost, nothing duplicated.

A subprocess indexes a generated case with the fake embedder in small batches and is killed at
seeded random moments. Every round adds new files, so every run has work. Half of the rounds embed
slowly and are killed while embedding and committing; the other half embed fast with a slowed
index save and are killed once the child says it is saving the indexes, so kills land inside the
save too (the test counts them). Meanwhile this process queries the case: every query must
succeed on a consistent state.
"""

from __future__ import annotations

import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from imgsim_desktop.core import open_case
from imgsim_desktop.core.store.catalog import STATUS_INDEXED
from tests.conftest import ROOT
from tests.core.fakes import FakeEmbedder, fake_head

KILLS = 10
PER_ROUND = 20


def _make_files(folder: Path, numbers: range) -> list[str]:
    rng = np.random.default_rng(numbers.start)
    names = []
    for n in numbers:
        sub = folder / f"dir{n % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        name = f"img{n:04d}." + ("png" if n % 3 else "jpg")
        Image.fromarray(pixels).save(sub / name)
        names.append(f"dir{n % 7}/{name}")
    return sorted(names)


def _indexer(case_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.fake_indexer", str(case_dir), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _saving(child: subprocess.Popen[str], timeout: float) -> bool:
    """Wait until the child says it updates the scene indexes; False if it ended first."""
    assert child.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([child.stdout], [], [], 0.05)
        if ready:
            line = child.stdout.readline()
            if not line:
                return False
            if line.strip() == "stage index":
                return True
    return False


def test_kill_9_loop_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    names = _make_files(case_dir, range(40))
    first = _indexer(case_dir, "--fast")  # a finished first run, so the case can be queried
    assert first.wait(timeout=120) == 0
    rng = random.Random(11)
    kills = save_kills = queries = 0
    reader = open_case(case_dir, embedder=FakeEmbedder(), head=fake_head())

    def query_once() -> None:
        nonlocal queries
        result = reader.query(case_dir / names[queries % len(names)], k=5, all_scenes=True)
        paths = [r.path for r in result.results]
        assert len(paths) == len(set(paths)) and set(paths) <= set(names)
        queries += 1

    for round_ in range(KILLS):
        start = 40 + round_ * PER_ROUND
        names = sorted(names + _make_files(case_dir, range(start, start + PER_ROUND)))
        if round_ % 2:  # kill inside the index save
            child = _indexer(case_dir, "--fast", "--slow-save")
            if _saving(child, timeout=60):
                time.sleep(rng.uniform(0.0, 0.4))
                save_kills += child.poll() is None
        else:  # kill while embedding and committing
            child = _indexer(case_dir)
            deadline = time.monotonic() + rng.uniform(0.6, 1.6)
            while time.monotonic() < deadline and child.poll() is None:
                query_once()  # a query beside the indexer never sees a torn state
                time.sleep(0.05)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=30)
        query_once()
    final = _indexer(case_dir, "--fast")
    _out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    reader.close()
    assert kills == KILLS, f"only {kills} kills landed mid-run"
    assert save_kills >= KILLS // 2 - 1, f"only {save_kills} kills landed inside the index save"
    assert queries >= KILLS
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        records = [r for r in case.files() if r.status == STATUS_INDEXED]
        assert sorted(r.path for r in records) == names  # every file exactly once
        result = case.query(case_dir / names[0], k=len(names), all_scenes=True, rotations=False)
        found = [r.path for r in result.results]
        assert len(found) == len(set(found)) == len(names)
        assert case.index().indexed == 0
    print(f"kills={kills} (in the index save: {save_kills}) queries={queries} files={len(records)}")
