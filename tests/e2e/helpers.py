# SPDX-License-Identifier: Apache-2.0
"""Running the real ``imgsim`` CLI in a subprocess, as a user or a script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]


def imgsim(*args: str | Path, home: Path, timeout: float = 900) -> Run:
    """``python -m imgsim_desktop ARGS`` with IMGSIM_HOME=home; never raises on failure."""
    env = {**os.environ, "IMGSIM_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "imgsim_desktop", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(done.returncode, done.stdout, done.stderr)
