# SPDX-License-Identifier: Apache-2.0
"""How soon the desktop application answers: window on screen, drop to thumbnails, reopened case.

Every figure comes from fresh processes run back to back, round after round (so that load from
other work on a shared machine hits every variant alike), each with the real model, offscreen:

- **window on screen**: from the moment the process is started to the main window's first
  expose event having been handled (its first frame painted), with no case and with the holidays
  case as the argument; also when the model was ready (the window says "Loading the model…" until
  then);
- **drop to first thumbnails**, warm (the model loaded, two warm-up queries done), on a copy of
  holidays_805 (811 photos) indexed first: from a query image dropped on the query pane to the
  query's quick first answer (``preview``, the upright view alone), to the full results, to the
  first result tile's thumbnail (from the preview's tiles when it comes first), and to every
  visible tile's of the full results; with no thumbnail cached anywhere
  ("uncached": the disk cache emptied, the in-memory one cleared) and with the disk cache holding
  them (the same query again, the in-memory cache cleared);
- **reopened case, evidence unmounted**: a new window opens the case whose folder is now empty (the
  drive not mounted) and searches it with the last timed query (whose thumbnails were shown, so
  the disk cache holds them): how many visible tiles show a thumbnail, and how soon.

``--compare REF`` runs the same measures on the code of git ref REF (exported with ``git
archive``, run by the same interpreter) in the same rounds. Results go to
``bench/results/gui_latency.json`` through benchlib (machine, commit, embedder); ``--out ''``
writes nothing.

    python bench/gui_latency.py [--data ../shared/data] [--rounds 3] [--queries 8] [--compare REF ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300


# --- child processes -------------------------------------------------------------------------
def child_window(case: str | None) -> dict:
    """Run ``imgsim-desktop [CASE]`` (its ``main``); report when the window was first painted
    and when the model was ready, as ``time.time()`` values."""
    from PySide6 import QtWidgets
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtGui import QWindow

    from imgsim_desktop import app as app_module

    marks: dict[str, float | None] = {}

    def finish() -> None:
        print(json.dumps(marks), flush=True)
        os._exit(0)  # a model load may still run on a worker: no teardown needed here

    def painted() -> None:
        marks["painted"] = time.time()
        window = next(
            w for w in QtWidgets.QApplication.topLevelWidgets() if w.inherits("QMainWindow")
        )
        if not hasattr(window, "model_loaded"):  # code from before the background load
            marks["model_ready"] = marks["exposed"]
            finish()
        elif window.model_ready:
            marks["model_ready"] = time.time()
            finish()
        else:
            window.model_loaded.connect(
                lambda _error: (marks.update(model_ready=time.time()), finish())
            )

    class Probe(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (
                event.type() == QEvent.Type.Expose
                and "exposed" not in marks
                and isinstance(watched, QWindow)
                and watched.isExposed()
            ):
                marks["exposed"] = time.time()
                QTimer.singleShot(0, painted)  # after the expose is handled (the frame painted)
            return False

    probe = Probe()
    real = QtWidgets.QApplication

    class ProbedApplication(real):  # type: ignore[misc, valid-type]
        def __init__(self, argv: list[str]) -> None:
            super().__init__(argv)
            self.installEventFilter(probe)

    QtWidgets.QApplication = ProbedApplication  # type: ignore[misc]
    QTimer.singleShot(TIMEOUT_S * 1000, finish)
    app_module.main([case] if case else [])
    return marks


def _drop(window, image: Path) -> None:
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image))])
    event = QDropEvent(
        QPoint(10, 10).toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.query_pane.drop_zone.dropEvent(event)


def _wait(app, done, timeout_s: float = TIMEOUT_S) -> None:
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.0005)


def _measure_drop(app, window, image: Path) -> dict:
    """Drop ``image``; seconds to the results, the first tile's thumbnail and every visible one."""
    from imgsim_desktop.ui.results.model import LoadedRole

    view, proxy = window.view, window.proxy
    marks: dict[str, float] = {}
    shown: list[int] = []
    previewed: list[int] = []
    window.results_shown.connect(shown.append)
    preview = getattr(window, "preview_shown", None)  # the quick first answer, where there is one
    if preview is not None:
        preview.connect(previewed.append)

    def visible_rows() -> list:
        port = view.viewport().rect()
        rows = [proxy.index(r, 0) for r in range(min(proxy.rowCount(), 200))]
        return [i for i in rows if view.visualRect(i).intersects(port)]

    def check() -> bool:
        now = time.perf_counter()
        if previewed and not shown:
            marks.setdefault("preview", now)
            if "first" not in marks and proxy.rowCount() and proxy.index(0, 0).data(LoadedRole):
                marks["first"] = now
        if not shown:
            return False
        marks.setdefault("results", now)
        if proxy.rowCount() == 0:
            return True
        if "first" not in marks and proxy.index(0, 0).data(LoadedRole):
            marks["first"] = now
        rows = visible_rows()
        if rows and all(i.data(LoadedRole) for i in rows):
            marks.setdefault("first", now)
            marks["visible"] = now
            marks["visible_tiles"] = len(rows)
            return True
        return False

    started = time.perf_counter()
    _drop(window, image)
    _wait(app, check)
    window.results_shown.disconnect(shown.append)
    if preview is not None:
        preview.disconnect(previewed.append)
    return {
        key: (round(value - started, 4) if key != "visible_tiles" else value)
        for key, value in marks.items()
    }


def _forget_thumbnails(window, home: Path, disk: bool) -> None:
    cache = window.thumbnails
    if hasattr(cache, "forget"):
        cache.forget()
    else:
        cache._cache.clear()  # code from before the disk cache
    if disk:
        shutil.rmtree(home / "cache" / "thumbs", ignore_errors=True)


def child_drops(case: Path, home: Path, warmups: list[Path], queries: list[Path]) -> dict:
    """Open the indexed ``case`` in a window, warm up, then time drops (see the module doc)."""
    from PySide6.QtWidgets import QApplication

    from imgsim_desktop.app import configure_application
    from imgsim_desktop.ui.mainwindow import MainWindow

    app = QApplication([])
    configure_application(app)
    window = MainWindow(remember_settings=False)
    window.interactive = False
    window.resize(1440, 900)
    window.show()
    window.open_case(case)
    _wait(app, lambda: window.session is not None and not window.session.indexing)
    _wait(app, lambda: getattr(window, "model_ready", True))
    for image in warmups:
        _measure_drop(app, window, image)
    rows = []
    for image in queries:
        _forget_thumbnails(window, home, disk=True)
        uncached = _measure_drop(app, window, image)
        _forget_thumbnails(window, home, disk=False)
        cached = _measure_drop(app, window, image)
        rows.append({"query": image.name, "uncached": uncached, "disk_cache": cached})
    os._exit(print(json.dumps(rows), flush=True) or 0)


def child_reopen(case: Path, query: Path) -> dict:
    """A new window on ``case`` whose evidence is gone; one query; tiles that show a picture."""
    from PySide6.QtWidgets import QApplication

    from imgsim_desktop.app import configure_application
    from imgsim_desktop.ui.mainwindow import MainWindow
    from imgsim_desktop.ui.results.model import LoadedRole

    app = QApplication([])
    configure_application(app)
    window = MainWindow(remember_settings=False)
    window.interactive = False
    window.resize(1440, 900)
    window.show()
    window.open_case(case)
    _wait(app, lambda: window.session is not None and not window.session.indexing)
    _wait(app, lambda: getattr(window, "model_ready", True))
    shown: list[int] = []
    window.results_shown.connect(shown.append)  # the full answer (a preview may come first)
    view, proxy = window.view, window.proxy

    def visible() -> list:
        port = view.viewport().rect()
        rows = [proxy.index(r, 0) for r in range(proxy.rowCount())]
        return [i for i in rows if view.visualRect(i).intersects(port)]

    started = time.perf_counter()
    _drop(window, query)
    _wait(app, lambda: bool(shown) and proxy.rowCount() > 0, 60)
    end = time.monotonic() + 10  # every visible tile that can show a thumbnail, or give up
    while time.monotonic() < end:
        app.processEvents()
        tiles = visible()
        if tiles and all(i.data(LoadedRole) for i in tiles):
            break
        if tiles and window.thumbnails.pending == 0 and time.monotonic() > end - 9:
            break  # nothing queued any more a second after the results: what is shown stays
        time.sleep(0.0005)
    elapsed = time.perf_counter() - started
    tiles = visible()
    filled = sum(bool(i.data(LoadedRole)) for i in tiles)
    os._exit(
        print(
            json.dumps({"visible_tiles": len(tiles), "filled": filled, "seconds": elapsed}),
            flush=True,
        )
        or 0
    )


# --- the parent ------------------------------------------------------------------------------
def export_ref(ref: str, destination: Path) -> Path:
    """The ``imgsim_desktop`` package of git ref ``ref``, extracted under ``destination``."""
    destination.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "imgsim_desktop"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
    return destination


def run_child(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, object]:
    """Start a child of this script; (its start time, the JSON it printed last)."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S * 3,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed ({done.returncode}): {done.stderr[-3000:]}")
    return started, json.loads(done.stdout.strip().splitlines()[-1])


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def summarise(values: list[float]) -> dict[str, float]:
    return {
        "best": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "worst": round(max(values), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=8, help="timed drops per round")
    parser.add_argument("--images", type=int, default=0, help="only the first N photos (trials)")
    parser.add_argument("--compare", metavar="REF", action="append", default=[])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "gui_latency.json"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "window":
            child_window(rest[0] if rest else None)
        elif kind == "drops":
            paths = [Path(p) for p in rest]
            child_drops(paths[0], paths[1], paths[2:4], paths[4:])
        elif kind == "reopen":
            child_reopen(Path(rest[0]), Path(rest[1]))
        return 0

    scratch = Path(tempfile.mkdtemp(prefix="imgsim-gui-latency-"))
    images = sorted((args.data / "holidays_805" / "images").glob("*.jpg"))
    images = images[: args.images] if args.images else images
    case = scratch / "holidays"
    case.mkdir()
    for path in images:
        shutil.copy(path, case)
    outside = scratch / "queries"  # query images outside the case (it is unmounted later)
    outside.mkdir()
    step = max(1, len(images) // (args.queries + 2))
    picked = [shutil.copy(images[i], outside) for i in range(0, step * (args.queries + 2), step)]
    warmups, queries = [Path(p) for p in picked[:2]], [Path(p) for p in picked[2:]]
    # The reopened case is searched with the last timed query: the thumbnails it showed are the
    # ones the disk cache can hold (an image never shown has no thumbnail anywhere).
    reopen_query = queries[-1]
    variants = {"this branch": {"PYTHONPATH": str(ROOT)}}
    for i, ref in enumerate(args.compare):
        variants[ref] = {"PYTHONPATH": str(export_ref(ref, scratch / f"ref{i}"))}
    base = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    results: dict[str, dict[str, list]] = {
        name: {"window_empty": [], "window_case": [], "model_ready": [], "drops": [], "reopen": []}
        for name in variants
    }
    loads = [load_average()]
    try:
        for number, extra in enumerate(variants.values()):  # each its own data, indexed first
            extra["IMGSIM_HOME"] = str(scratch / f"home{number}")
            subprocess.run(
                [sys.executable, "-m", "imgsim_desktop", "index", str(case)],
                env={**base, **extra},
                cwd=scratch,
                check=True,
                capture_output=True,
            )
        for _ in range(args.rounds):
            for name, extra in variants.items():
                env, home = {**base, **extra}, Path(extra["IMGSIM_HOME"])
                started, marks = run_child(["--child", "window"], env, scratch)
                results[name]["window_empty"].append(marks["painted"] - started)
                results[name]["model_ready"].append(marks["model_ready"] - started)
                started, marks = run_child(["--child", "window", str(case)], env, scratch)
                results[name]["window_case"].append(marks["painted"] - started)
                drop_args = [str(case), str(home), *map(str, warmups), *map(str, queries)]
                _, rows = run_child(["--child", "drops", *drop_args], env, scratch)
                results[name]["drops"].extend(rows)
                case.rename(case.with_name("holidays.away"))  # the drive is not mounted
                case.mkdir()
                try:
                    _, reopened = run_child(
                        ["--child", "reopen", str(case), str(reopen_query)], env, scratch
                    )
                finally:
                    case.rmdir()
                    case.with_name("holidays.away").rename(case)
                results[name]["reopen"].append(reopened)
                loads.append(load_average())
    finally:
        shutil.rmtree(scratch)

    report: dict = {"case_images": len(images), "rounds": args.rounds, "load_average": loads}
    for name, measured in results.items():
        drops = measured["drops"]
        row = {
            "window_on_screen_s": summarise(measured["window_empty"]),
            "window_on_screen_with_case_s": summarise(measured["window_case"]),
            "model_ready_s": summarise(measured["model_ready"]),
        }
        for condition in ("uncached", "disk_cache"):
            for point in ("preview", "results", "first", "visible"):
                row[f"drop_to_{point}_{condition}_s"] = summarise(
                    [d[condition][point] for d in drops if point in d[condition]]
                )
        row["reopened_unmounted"] = measured["reopen"]
        row["drops"] = drops
        report[name] = row
        print(f"== {name}")
        for key, value in row.items():
            if key not in ("drops",):
                print(f"  {key:40s} {value}")
    print(f"load average (1 min) during the run: {loads}")
    if args.out:
        sys.path.insert(0, str(ROOT / "bench"))
        from benchlib import bundled_embedder_key, write_result

        write_result(Path(args.out), report, bundled_embedder_key())
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
