# SPDX-License-Identifier: Apache-2.0
"""Test-only entry point: ``python -m tests.core.fake_indexer CASE [--side N] [--suffix S]
[--fast] [--slow-save]`` indexes CASE with the fake embedder in small batches, so a test can
``kill -9`` it mid-run. It prints each progress stage as it starts (``stage <name>``), so a test
can aim a kill at the index save."""

from __future__ import annotations

import argparse
import os
import time
from types import SimpleNamespace

import numpy as np

from imgsim_desktop.core import open_case
from imgsim_desktop.core.pipeline import indexing
from imgsim_desktop.core.progress import ProgressEvent
from imgsim_desktop.core.store import index as index_module
from tests.core.fakes import FakeEmbedder, fake_head


class SlowFakeEmbedder(FakeEmbedder):
    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        time.sleep(0.1 * len(images))  # slow enough that no run finishes before its kill
        return super().embed(images)


def _slow_replace(src: str, dst: str) -> None:
    time.sleep(0.15)  # a save takes long enough for a kill to land inside it
    os.replace(src, dst)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("--side", type=int, default=4)
    parser.add_argument("--suffix", default="")
    parser.add_argument("--fast", action="store_true", help="embed without sleeping")
    parser.add_argument("--slow-save", action="store_true", help="slow down index file moves")
    args = parser.parse_args()
    indexing.BATCH_SIZE = 8
    if args.slow_save:  # the index module sees an os whose replace is slow, the rest as is
        slow_os = {name: getattr(os, name) for name in dir(os) if not name.startswith("__")}
        index_module.os = SimpleNamespace(**{**slow_os, "replace": _slow_replace})  # type: ignore[assignment]
    embedder_type = FakeEmbedder if args.fast else SlowFakeEmbedder
    embedder = embedder_type(args.suffix, side=args.side)
    stages: list[str] = []

    def progress(event: ProgressEvent) -> None:
        if not stages or stages[-1] != event.stage:
            stages.append(event.stage)
            print(f"stage {event.stage}", flush=True)

    head = fake_head(dim=embedder.identity.dim)
    with open_case(args.case, embedder=embedder, head=head) as case:
        summary = case.index(progress=progress)
    print(summary.indexed, summary.unchanged, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
