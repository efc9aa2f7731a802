# SPDX-License-Identifier: Apache-2.0
"""Indexing and query speed of the ``imgsim`` CLI on holidays_805 (811 photos), as a user runs it.

Measures, in one run on this machine: a first index of a read-only copy (fresh app data), an
unchanged re-index (must not load the model), one query as a fresh process (model load included),
and the per-query time inside a batch of the 300 official queries. Ratios within one run are the
figures to compare; absolute seconds on shared 2-core machines are noisy.

    python bench/indexing.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import bundled_embedder_key, write_result

ROOT = Path(__file__).resolve().parents[1]


def imgsim(*args: str, home: Path) -> tuple[float, str]:
    env = {**os.environ, "IMGSIM_HOME": str(home), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "imgsim_desktop", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.monotonic() - started, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "indexing.json")
    args = parser.parse_args()
    holidays = args.data / "holidays_805"
    scratch = Path(tempfile.mkdtemp(prefix="imgsim-bench-"))
    case, home = scratch / "case", scratch / "home"
    shutil.copytree(holidays / "images", case)
    for path in case.iterdir():
        path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    try:
        first, out = imgsim("index", str(case), "--json", home=home)
        images = json.loads(out)["indexed"]
        second, _ = imgsim("index", str(case), "--json", home=home)
        queries = [str(case / q) for q in json.loads((holidays / "groundtruth.json").read_text())]
        single, _ = imgsim("query", str(case), queries[0], "-k", "20", "--json", home=home)
        batch, _ = imgsim("query", str(case), *queries, "-k", "20", "--json", home=home)
    finally:
        for path in case.iterdir():
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(scratch)
    report = {
        "images": images,
        "first_index_s": round(first, 2),
        "images_per_s": round(images / first, 1),
        "reindex_unchanged_s": round(second, 2),
        "reindex_share_of_first": round(second / first, 4),
        "one_query_fresh_process_s": round(single, 2),
        "per_query_in_batch_of_300_s": round((batch - single) / (len(queries) - 1), 4),
    }
    write_result(args.out, report, bundled_embedder_key())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
