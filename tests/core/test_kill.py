# SPDX-License-Identifier: Apache-2.0
"""``kill -9`` of a real indexing process, again and again: nothing lost, nothing duplicated.

A subprocess indexes a generated case with the fake embedder (slowed down, small batches) and is
killed at seeded random moments, so kills land while embedding, committing and saving indexes.
Meanwhile this process queries the case: every query must succeed on a consistent state.
"""

from __future__ import annotations

import random
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

N_FILES = 240
KILLS = 10


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


def _indexer(case_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.fake_indexer", str(case_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_loop_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    names = _make_files(case_dir, range(40))
    first = _indexer(case_dir)  # a finished first run, so the case can be queried meanwhile
    assert first.wait(timeout=120) == 0
    names = sorted(names + _make_files(case_dir, range(40, N_FILES)))
    rng = random.Random(11)
    kills = queries = 0
    reader = open_case(case_dir, embedder=FakeEmbedder(), head=fake_head())
    for _round in range(KILLS):
        child = _indexer(case_dir)
        deadline = time.monotonic() + rng.uniform(0.6, 1.6)
        while time.monotonic() < deadline and child.poll() is None:
            # a query beside the indexer never sees a torn state
            result = reader.query(case_dir / names[queries % N_FILES], k=5, all_scenes=True)
            paths = [r.path for r in result.results]
            assert len(paths) == len(set(paths)) and set(paths) <= set(names)
            queries += 1
            time.sleep(0.05)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=30)
    final = _indexer(case_dir)
    _out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    reader.close()
    assert kills == KILLS, f"only {kills} kills landed mid-run"
    assert queries >= KILLS
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        records = [r for r in case.files() if r.status == STATUS_INDEXED]
        assert sorted(r.path for r in records) == names  # every file exactly once
        result = case.query(case_dir / names[0], k=N_FILES, all_scenes=True, rotations=False)
        found = [r.path for r in result.results]
        assert len(found) == len(set(found)) == N_FILES
        assert case.index().indexed == 0
    print(f"kills={kills} queries during indexing={queries} catalogue={len(records)}")
