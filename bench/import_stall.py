# SPDX-License-Identifier: Apache-2.0
"""How long does loading torch on a worker thread stall the main (GUI) thread?

Each trial is a fresh process: the main thread beats every 10 ms (a plain ``time.sleep`` loop, or
with ``--qt`` a QTimer beside the real MainWindow, shown offscreen, its own background model load
skipped)
while a worker thread loads torch one way or another; the figure is the longest interval between
two beats (10 ms when nothing stalls). Ways (``--modes``):

- ``idle``: the worker sleeps (the machine's own noise);
- ``import``: ``import torch``;
- ``switch``: ``sys.setswitchinterval(0.0005)`` first (default 0.005), then ``import torch``;
- ``cdll``: ``ctypes.CDLL`` of torch's shared libraries first (RTLD_GLOBAL), then ``import torch``;
- ``dlopen``: ``torch_runtime.preload_native_libraries()`` first (libc's ``dlopen`` called through
  ctypes, which releases the GIL), then ``import torch``;
- ``nogc``: ``import torch`` with the garbage collector disabled, then ``gc.freeze()``;
- ``load_torch``: ``torch_runtime.load_torch()``, both of the above (what the embedder does);
- ``model``: the embedder's ``preload_libraries()``, then the network built and one image embedded;
- ``subprocess``: the worker runs ``python -c "import torch"`` as a child and waits for it.

    QT_QPA_PLATFORM=offscreen python bench/import_stall.py [--qt] [--trials 5] [--modes import load_torch]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ["idle", "import", "switch", "cdll", "dlopen", "nogc", "load_torch", "model", "subprocess"]
BEAT_S = 0.010


def torch_libraries() -> list[Path]:
    from imgsim_desktop.core.model.torch_runtime import torch_native_libraries

    return torch_native_libraries()


def load(mode: str) -> None:
    """What the worker thread does in one trial."""
    if mode == "idle":
        time.sleep(1.5)
    elif mode == "subprocess":
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
    elif mode == "load_torch":
        from imgsim_desktop.core.model.torch_runtime import load_torch

        load_torch()
    elif mode == "model":
        import numpy as np

        from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder, preload_libraries

        preload_libraries()
        EfficientNetLiteEmbedder().embed([np.zeros((224, 298, 3), np.uint8)])
    else:
        if mode == "switch":
            sys.setswitchinterval(0.0005)
        if mode == "cdll":
            for path in torch_libraries():
                ctypes.CDLL(str(path), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
        if mode == "dlopen":
            from imgsim_desktop.core.model.torch_runtime import preload_native_libraries

            preload_native_libraries()
        if mode == "nogc":
            gc.disable()
        import torch  # noqa: F401

        if mode == "nogc":
            gc.freeze()
            gc.enable()


def trial(mode: str, qt: bool) -> dict[str, float]:
    """Run in a fresh process: beat while the worker loads; the worst interval and load time."""
    beats: list[float] = []
    done = threading.Event()
    took: list[float] = []

    def worker() -> None:
        started = time.perf_counter()
        load(mode)
        took.append(time.perf_counter() - started)
        done.set()

    if qt:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        import imgsim_desktop.ui.mainwindow as mainwindow
        import imgsim_desktop.ui.model_loader as model_loader

        # The window's own background load is skipped: the trial's worker loads torch its way.
        model_loader.load_model = lambda _embedder: None  # type: ignore[assignment]
        app = QApplication([])
        window = mainwindow.MainWindow(remember_settings=False)
        window.show()
        app.processEvents()
        timer = QTimer()
        timer.setInterval(int(BEAT_S * 1000))

        def beat() -> None:
            beats.append(time.perf_counter())
            if done.is_set() and beats[-1] - finished[0] > 0.2:
                app.quit()

        finished = [float("inf")]
        timer.timeout.connect(beat)
        timer.start()
        QTimer.singleShot(300, lambda: threading.Thread(target=worker).start())

        def watch() -> None:
            done.wait()
            finished[0] = time.perf_counter()

        threading.Thread(target=watch, daemon=True).start()
        app.exec()
    else:
        thread = threading.Thread(target=worker)
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            time.sleep(BEAT_S)
            beats.append(time.perf_counter())
        thread.start()
        while not done.is_set():
            time.sleep(BEAT_S)
            beats.append(time.perf_counter())
        thread.join()
    intervals = [b - a for a, b in itertools.pairwise(beats)]
    return {"worst_ms": round(max(intervals) * 1000, 1), "load_s": round(took[0], 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qt", action="store_true", help="QTimer heartbeat beside the MainWindow")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    parser.add_argument("--trial", help=argparse.SUPPRESS)  # internal: run one trial, print JSON
    args = parser.parse_args()
    if args.trial:
        print(json.dumps(trial(args.trial, args.qt)))
        return 0
    home = tempfile.mkdtemp(prefix="imgsim-stall-")  # the window's settings go nowhere real
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IMGSIM_HOME": home}
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in args.modes}
    try:
        for _ in range(args.trials):  # modes interleaved, so load from other work hits all alike
            for mode in args.modes:
                command = [sys.executable, __file__, "--trial", mode] + (
                    ["--qt"] if args.qt else []
                )
                out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
                results[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(home)
    beat = "QTimer beside the MainWindow" if args.qt else "sleep loop"
    print(f"heartbeat: {beat} every 10 ms; {args.trials} trials")
    print(
        f"{'mode':14s} {'worst gap ms: best':>20s} {'median':>8s} {'max':>8s} {'load s (median)':>16s}"
    )
    for mode, rows in results.items():
        worst = [r["worst_ms"] for r in rows]
        load_s = statistics.median(r["load_s"] for r in rows)
        print(
            f"{mode:14s} {min(worst):20.0f} {statistics.median(worst):8.0f} {max(worst):8.0f}"
            f" {load_s:16.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
