# SPDX-License-Identifier: Apache-2.0
"""The ``imgsim-desktop`` entry point: platform checks and the headless screenshot mode."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from imgsim_desktop.app import XCB_LIBRARIES, platform_problem
from tests.conftest import FIXTURES, ROOT


def test_no_display_is_one_clear_line() -> None:
    message = platform_problem({"QT_QPA_PLATFORM": "xcb"})
    assert message is not None and "DISPLAY" in message and "\n" not in message


def test_missing_xcb_libraries_are_named(monkeypatch) -> None:
    monkeypatch.setattr("ctypes.util.find_library", lambda name: None)
    message = platform_problem({"DISPLAY": ":0"})
    assert message is not None and "\n" not in message
    for package in XCB_LIBRARIES.values():
        assert package in message


def test_offscreen_needs_no_display() -> None:
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def _screenshot(tmp_path: Path, imgsim_home: Path, platform: str, wrapper: list[str]) -> Path:
    out = tmp_path / f"shot-{platform}.png"
    case = FIXTURES / "case"
    env = {**os.environ, "IMGSIM_HOME": str(imgsim_home), "QT_QPA_PLATFORM": platform}
    done = subprocess.run(
        [
            *wrapper,
            sys.executable,
            "-m",
            "imgsim_desktop.app",
            str(case),
            "--query",
            str(case / "scene0_a.jpg"),
            "--screenshot",
            str(out),
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def _assert_busy(png: Path) -> None:
    image = Image.open(png).convert("RGB")
    assert image.width >= 800 and image.height >= 500
    assert len(image.resize((200, 120)).getcolors(1 << 24) or []) > 500


@pytest.mark.model
def test_screenshot_mode_offscreen(tmp_path: Path, imgsim_home: Path) -> None:
    settings = imgsim_home / "settings" / "imgsim-desktop" / "imgsim-desktop.ini"
    settings.parent.mkdir(parents=True)
    settings.write_text("[General]\ntileSize=64\n")  # a user's own layout: neither used nor changed
    shot = _screenshot(tmp_path, imgsim_home, "offscreen", [])
    _assert_busy(shot)
    assert Image.open(shot).size == (1440, 900)
    assert settings.read_text() == "[General]\ntileSize=64\n"


@pytest.mark.model
def test_screenshot_mode_on_a_real_x_server(tmp_path: Path, imgsim_home: Path) -> None:
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("xvfb-run is absent (Debian package xvfb); .ci/run installs it")
    if platform_problem({"DISPLAY": ":99", "QT_QPA_PLATFORM": "xcb"}):
        pytest.skip(platform_problem({"DISPLAY": ":99", "QT_QPA_PLATFORM": "xcb"}))
    _assert_busy(
        _screenshot(tmp_path, imgsim_home, "xcb", [xvfb_run, "-a", "-s", "-screen 0 1600x1000x24"])
    )
