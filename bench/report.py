# SPDX-License-Identifier: Apache-2.0
"""How long a 100-match evidence report takes, on holidays_805 (811 photos).

Measures, after indexing a read-only copy once: ``imgsim report -k 100`` as a fresh process for
each format (model load, query, re-hashing the 101 files, thumbnails, writing, the audit line),
and, in one process, building the report data and rendering each format from an existing query
result (the report's own cost), and the same query without a report (``imgsim query -k 100``) so
the report's share of the command's time shows. The target is under 10 s for a 100-match report.

    python bench/report.py [--data ../shared/data]
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
FORMATS = ("html", "pdf", "csv", "json")
K = 100


def imgsim(*args: str, home: Path) -> float:
    env = {**os.environ, "IMGSIM_HOME": str(home), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "imgsim_desktop", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.monotonic() - started


def in_process(case_dir: Path, query: Path, out: Path) -> dict[str, float]:
    """Build once and render each format from one query result; seconds per step."""
    sys.path.insert(0, str(ROOT))
    from imgsim_desktop.core import open_case
    from imgsim_desktop.core.report import ReportOptions, build_report, write_report

    times: dict[str, float] = {}
    with open_case(case_dir) as case:
        result = case.query(query, k=K)
        started = time.monotonic()
        data = build_report(case, result, ReportOptions(examiner="bench", case_number="B-1"))
        times["build_s"] = round(time.monotonic() - started, 3)
        times["matches"] = len(data.matches)
        for fmt in FORMATS:
            started = time.monotonic()
            written = write_report(data, out / f"inproc.{fmt}")
            times[f"write_{fmt}_s"] = round(time.monotonic() - started, 3)
            times[f"{fmt}_bytes"] = written.size
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "report.json")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measure (best is kept)")
    args = parser.parse_args()
    holidays = args.data / "holidays_805"
    scratch = Path(tempfile.mkdtemp(prefix="imgsim-bench-report-"))
    case, home, out = scratch / "case", scratch / "home", scratch / "out"
    shutil.copytree(holidays / "images", case)
    out.mkdir()
    for path in case.iterdir():
        path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    query = case / next(iter(json.loads((holidays / "groundtruth.json").read_text())))
    try:
        imgsim("index", str(case), home=home)
        # The same query without a report, as a fresh process: model load and search alone.
        # Best of --repeat runs each: shared machines add seconds of noise, never remove them.
        query_only = round(
            min(imgsim("query", str(case), str(query), "-k", str(K), home=home)
                for _ in range(args.repeat)),
            2,
        )  # fmt: skip
        cli = {
            f"cli_{fmt}_s": round(
                min(imgsim("report", str(case), str(query), "-k", str(K), "--force",
                           "-o", str(out / f"r.{fmt}"), "--examiner", "bench", home=home)
                    for _ in range(args.repeat)),
                2,
            )
            for fmt in FORMATS
        }  # fmt: skip
        os.environ["IMGSIM_HOME"] = str(home)
        core = in_process(case, query, out)
    finally:
        for path in case.iterdir():
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(scratch)
    report = {
        "k": K,
        "repeat": args.repeat,
        **cli,
        "cli_slowest_s": max(cli.values()),
        "cli_query_only_s": query_only,
        "report_overhead_s": round(max(cli.values()) - query_only, 2),
        **core,
    }
    write_result(args.out, report, bundled_embedder_key())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
