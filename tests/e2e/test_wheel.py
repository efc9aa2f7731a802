# SPDX-License-Identifier: Apache-2.0
"""The wheel: it builds, carries the scene head, and its ``imgsim`` entry point runs."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_builds_installs_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = dist.glob("imgsim_desktop-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "imgsim = imgsim_desktop.cli:main" in archive.read(entry_points).decode()
    assert "imgsim_desktop/resources/scene_head.npz" in names
    assert not any(n.startswith("tests/") for n in names)

    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = (
        "import imgsim_desktop, sys; from imgsim_desktop.core.model.scenes import bundled_head; "
        "assert imgsim_desktop.__file__.startswith(sys.argv[1]), imgsim_desktop.__file__; "
        "assert bundled_head().test_accuracy >= 0.9; "
        "from imgsim_desktop.cli import main; sys.argv[1:] = ['--help']; main()"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "index" in run.stdout and "query" in run.stdout
