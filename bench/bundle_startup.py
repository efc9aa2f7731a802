# SPDX-License-Identifier: Apache-2.0
"""Start-up of the bundled application against the installed one, measured the same way.

Both copies come from one ``packaging/build-bundle OUT_DIR`` run: the bundle
(``OUT_DIR/imgsim-desktop``) and its build venv (``OUT_DIR/build/venv``, where the same project,
torch and Qt are installed with pip), so only the packaging differs. On an indexed case of the
first ``--images`` photos of holidays_805, fresh processes are timed back to back, round after
round (load from other work hits every command alike), each with the bundle check's clean
environment (``env -i``-like: HOME, PATH=/usr/bin:/bin, IMGSIM_HOME, QT_QPA_PLATFORM=offscreen):

- the window: ``imgsim-desktop CASE --query IMAGE --screenshot OUT.png`` (start, open the case,
  load the model, answer the query, show the thumbnails and preview, save, exit);
- the command line: ``imgsim query CASE IMAGE``;
- the bare start: ``imgsim --version`` (Python and the engine's libraries, no torch, no Qt).

Best of ``--repeats`` rounds, wall-clock and CPU seconds; written to
``bench/results/bundle_startup.json`` with the machine and commit.

    python bench/bundle_startup.py OUT_DIR [--data ../shared/data] [--images 40] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, write_result


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one fresh process, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="the OUT_DIR of packaging/build-bundle")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "bundle_startup.json"
    )
    args = parser.parse_args()
    bundle = args.out_dir.resolve() / "imgsim-desktop"
    venv_bin = args.out_dir.resolve() / "build" / "venv" / "bin"
    for program in (bundle / "imgsim-desktop", bundle / "imgsim", venv_bin / "imgsim-desktop"):
        if not program.is_file():
            raise SystemExit(f"{program} not found: run packaging/build-bundle {args.out_dir}")
    scratch = Path(tempfile.mkdtemp(prefix="imgsim-bundle-startup-"))
    case, home, shot = scratch / "case", scratch / "home", scratch / "shot.png"
    case.mkdir()
    for path in sorted((args.data / "holidays_805" / "images").glob("*.jpg"))[: args.images]:
        shutil.copy(path, case)
    query = str(sorted(case.iterdir())[0])
    env = {
        "HOME": str(scratch / "homedir"),
        "PATH": "/usr/bin:/bin",
        "IMGSIM_HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
    }
    window_args = [str(case), "--query", query, "--screenshot", str(shot)]
    commands = {
        "window, installed": [str(venv_bin / "imgsim-desktop"), *window_args],
        "window, bundled": [str(bundle / "imgsim-desktop"), *window_args],
        "imgsim query, installed": [str(venv_bin / "imgsim"), "query", str(case), query],
        "imgsim query, bundled": [str(bundle / "imgsim"), "query", str(case), query],
        "imgsim --version, installed": [str(venv_bin / "imgsim"), "--version"],
        "imgsim --version, bundled": [str(bundle / "imgsim"), "--version"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    try:
        timed([str(venv_bin / "imgsim"), "index", str(case)], env)
        for command in commands.values():  # a warm-up round: the page cache, fontconfig
            timed(command, env)
        for _ in range(args.repeats):
            for name, command in commands.items():
                wall, used = timed(command, env)
                times[name].append(wall)
                cpu[name].append(used)
    finally:
        shutil.rmtree(scratch)
    rows = {
        name: {"best_s": round(min(times[name]), 3), "best_cpu_s": round(min(cpu[name]), 3)}
        for name in commands
    }
    report = {
        "case_images": args.images,
        "repeats": args.repeats,
        "load_average": os.getloadavg(),
        "best_of_repeats": rows,
        "all_s": {name: [round(x, 3) for x in t] for name, t in times.items()},
        "all_cpu_s": {name: [round(x, 3) for x in t] for name, t in cpu.items()},
    }
    write_result(args.out, report, None)
    print(f"{'best of ' + str(args.repeats):30s} {'wall s':>7s} {'CPU s':>7s}")
    for name, row in rows.items():
        print(f"{name:30s} {row['best_s']:7.2f} {row['best_cpu_s']:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
