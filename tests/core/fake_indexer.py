# SPDX-License-Identifier: Apache-2.0
"""Test-only entry point: ``python -m tests.core.fake_indexer CASE`` indexes CASE with the fake
embedder, slowed down and in small batches, so a test can ``kill -9`` it mid-run."""

from __future__ import annotations

import sys
import time

import numpy as np

from imgsim_desktop.core import open_case
from imgsim_desktop.core.pipeline import indexing
from tests.core.fakes import FakeEmbedder, fake_head


class SlowFakeEmbedder(FakeEmbedder):
    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        time.sleep(0.1 * len(images))  # slow enough that no run finishes before its kill
        return super().embed(images)


def main(case_dir: str) -> int:
    indexing.BATCH_SIZE = 8
    with open_case(case_dir, embedder=SlowFakeEmbedder(), head=fake_head()) as case:
        summary = case.index()
    print(summary.indexed, summary.unchanged, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
