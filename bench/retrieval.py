# SPDX-License-Identifier: Apache-2.0
"""Retrieval quality on INRIA Holidays (holidays_805), through the code path of ``imgsim query``.

Indexes ``../shared/data/holidays_805/images`` as a case (read only; app data in a scratch
IMGSIM_HOME), runs the 300 official queries with ``Case.query`` (per-scene search at several
coverage thresholds, and all scenes), and reports mAP with the query itself excluded and the ranking
truncated at k (the acceptance check's protocol), plus the share of vectors searched. Query vectors
are memoised so each threshold costs only the search. Also prints the scene head's 15-Scene test
accuracy recorded by ``tools/train_scene_head.py``.

    python bench/retrieval.py [--data ../shared/data] [--k 100] [--coverage 0.8 0.9 0.95]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import machine, write_result

ROOT = Path(__file__).resolve().parents[1]


class MemoEmbedder:
    """Wraps an embedder and remembers vectors by the pixels' hash (queries repeat here)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self._memo: dict[bytes, np.ndarray] = {}

    @property
    def identity(self):
        return self.inner.identity

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        keys = [hashlib.sha1(a.tobytes() + str(a.shape).encode()).digest() for a in images]
        missing = [i for i, k in enumerate(keys) if k not in self._memo]
        if missing:
            for i, v in zip(missing, self.inner.embed([images[i] for i in missing]), strict=True):
                self._memo[keys[i]] = v
        return np.stack([self._memo[k] for k in keys])


def average_precision(ranked: list[str], query: str, relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for position, name in enumerate((n for n in ranked if n != query), 1):
        if name in relevant:
            hits += 1
            total += hits / position
    return total / len(relevant)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--coverage", type=float, nargs="+", default=[0.8, 0.9, 0.95])
    parser.add_argument(
        "--home", type=Path, default=None, help="IMGSIM_HOME to use (default: a temp dir)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval.json")
    args = parser.parse_args()
    holidays = args.data / "holidays_805"
    if not holidays.is_dir():
        print(f"bench/retrieval.py: {holidays} is absent", file=sys.stderr)
        return 1
    os.environ["IMGSIM_HOME"] = str(args.home or tempfile.mkdtemp(prefix="imgsim-bench-"))
    from imgsim_desktop.core import open_case
    from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
    from imgsim_desktop.core.model.scenes import bundled_head

    truth = json.loads((holidays / "groundtruth.json").read_text())
    embedder = MemoEmbedder(EfficientNetLiteEmbedder())
    case = open_case(holidays / "images", embedder=embedder)
    started = time.monotonic()
    summary = case.index()
    index_seconds = time.monotonic() - started
    settings = [(f"per-scene coverage {c}", {"coverage": c}) for c in args.coverage]
    settings += [
        ("all scenes", {"all_scenes": True}),
        ("all scenes, no query rotations", {"all_scenes": True, "rotations": False}),
    ]
    rows = []
    for label, options in settings:
        aps, searched, total, seconds = [], [], [], 0.0
        for query, relevant in truth.items():
            t0 = time.monotonic()
            result = case.query(holidays / "images" / query, k=args.k, **options)
            seconds += time.monotonic() - t0
            aps.append(average_precision([r.path for r in result.results], query, set(relevant)))
            searched.append(result.vectors_searched)
            total.append(result.vectors_total)
        rows.append(
            {
                "setting": label,
                **options,
                "map": round(float(np.mean(aps)), 4),
                "searched_share": round(float(np.sum(searched) / np.sum(total)), 4),
                "seconds_per_query": round(seconds / len(truth), 4),
            }
        )
    all_map = rows[-2]["map"]
    for row in rows:
        row["share_of_all_scenes_map"] = round(row["map"] / all_map, 4)
    report = {
        "embedder": embedder.identity.key,
        "images": summary.indexed + summary.unchanged,
        "index_seconds": round(index_seconds, 2),
        "scenes": summary.scenes,
        "k": args.k,
        "queries": len(truth),
        "rows": rows,
        "scene15_test_accuracy": bundled_head().test_accuracy,
    }
    write_result(args.out, report, embedder.identity.key)
    print(f"| setting | mAP@{args.k} | share of all-scenes mAP | vectors searched | s/query |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['setting']} | {row['map']:.4f} | {row['share_of_all_scenes_map']:.3f} | "
            f"{row['searched_share']:.1%} | {row['seconds_per_query']:.3f} |"
        )
    print(
        f"scene15 test accuracy {report['scene15_test_accuracy']:.4f}; index {index_seconds:.1f}s "
        f"for {report['images']} images; {machine()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
