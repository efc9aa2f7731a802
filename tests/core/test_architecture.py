# SPDX-License-Identifier: Apache-2.0
"""The layering contract: the core never imports Qt; front ends sit over the core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_import_linter_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    if lint is None:
        pytest.fail("import-linter is not installed (pip install '.[test]')")
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 broken" in done.stdout


def test_core_does_not_import_torch_until_a_model_is_needed() -> None:
    code = (
        "import sys, imgsim_desktop.core, imgsim_desktop.cli; "
        "assert 'torch' not in sys.modules, 'torch imported at start-up'; "
        "assert not any(m.startswith('PySide6') for m in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
