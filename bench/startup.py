# SPDX-License-Identifier: Apache-2.0
"""Start-up cost of a fresh ``imgsim query``, as a ratio to ``python -c "import torch"``.

Copies the first ``--images`` photos of holidays_805 to a scratch case, indexes it, then times fresh
processes back to back, round after round (so that load from other work on a shared machine hits
every command alike): ``python -c "import torch"``, ``python -c "import timm"`` (when timm is
installed), an unchanged ``imgsim index`` and ``imgsim query CASE IMAGE``; with ``--compare REF``
also the query of the code at git ref REF (exported with ``git archive``, run from the same
interpreter; the option repeats). Each figure (wall-clock and CPU seconds) is the best of
``--repeats`` rounds; the ratios to ``import torch`` are what to compare (the issue's target: a
query within 1.6x import torch).

    python bench/startup.py [--data ../shared/data] [--images 40] [--repeats 5] [--compare REF ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one fresh process, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def export_ref(ref: str, destination: Path) -> Path:
    """The ``imgsim_desktop`` package of git ref ``ref``, extracted under ``destination``."""
    destination.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "imgsim_desktop"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
    return destination


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--compare", metavar="REF", action="append", default=[], help="also time REF's query"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "startup.json")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="imgsim-startup-"))
    case, home = scratch / "case", scratch / "home"
    case.mkdir()
    for path in sorted((args.data / "holidays_805" / "images").glob("*.jpg"))[: args.images]:
        shutil.copy(path, case)
    query = str(sorted(case.iterdir())[0])
    env = {**os.environ, "IMGSIM_HOME": str(home), "PYTHONPATH": str(ROOT)}
    python = sys.executable
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "import torch": ([python, "-c", "import torch"], env),
        "imgsim index (unchanged)": ([python, "-m", "imgsim_desktop", "index", str(case)], env),
        "imgsim query": ([python, "-m", "imgsim_desktop", "query", str(case), query], env),
    }
    if importlib.util.find_spec("timm") is not None:
        commands["import timm"] = ([python, "-c", "import timm"], env)
    for i, ref in enumerate(args.compare):
        old = {**env, "PYTHONPATH": str(export_ref(ref, scratch / f"ref{i}"))}
        commands[f"imgsim query ({ref})"] = (commands["imgsim query"][0], old)
    try:
        # cwd is the scratch folder: ``python -m`` puts it first on sys.path, and ROOT there would
        # shadow the exported ref's package.
        timed(commands["imgsim index (unchanged)"][0], env, scratch)  # the first index
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, (command, command_env) in commands.items():
                wall, used = timed(command, command_env, scratch)
                times[name].append(wall)
                cpu[name].append(used)
    finally:
        shutil.rmtree(scratch)
    torch_s, torch_cpu = min(times["import torch"]), min(cpu["import torch"])
    rows = {
        name: {
            "best_s": round(min(times[name]), 3),
            "ratio_to_import_torch": round(min(times[name]) / torch_s, 2),
            "best_cpu_s": round(min(cpu[name]), 3),
            "cpu_ratio_to_import_torch": round(min(cpu[name]) / torch_cpu, 2),
        }
        for name in commands
    }
    report = {
        "case_images": args.images,
        "repeats": args.repeats,
        "best_of_repeats": rows,
        "all_s": {name: [round(x, 3) for x in t] for name, t in times.items()},
        "all_cpu_s": {name: [round(x, 3) for x in t] for name, t in cpu.items()},
    }
    sys.path.insert(0, str(ROOT / "bench"))
    from benchlib import bundled_embedder_key, write_result

    write_result(args.out, report, bundled_embedder_key())
    print(
        f"{'best of ' + str(args.repeats):32s} {'wall s':>7s} {'ratio':>6s} {'CPU s':>7s} {'ratio':>6s}"
    )
    for name, row in rows.items():
        print(
            f"{name:32s} {row['best_s']:7.2f} {row['ratio_to_import_torch']:6.2f}"
            f" {row['best_cpu_s']:7.2f} {row['cpu_ratio_to_import_torch']:6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
