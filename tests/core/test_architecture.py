# SPDX-License-Identifier: Apache-2.0
"""The layering contract: the core never imports Qt; front ends sit over the core; the runtime
needs torch alone (neither timm nor torchvision)."""

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


EMBED_ONE_IMAGE = """
import sys
from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder, preload_libraries
preload_libraries()
embedder = EfficientNetLiteEmbedder()
vectors = embedder.embed([load_for_embedding({image!r}, 224).pixels])
logits = embedder.imagenet_logits([load_for_embedding({image!r}, 224).pixels])
assert vectors.shape == (1, 256) and logits.shape == (1, 1000)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("timm", "torchvision"))
print("torch" in sys.modules, loaded)
"""


@pytest.mark.model
def test_embedding_with_the_real_model_never_imports_timm_or_torchvision() -> None:
    code = EMBED_ONE_IMAGE.format(image=str(ROOT / "tests" / "fixtures" / "case" / "scene0_a.jpg"))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "[]"]  # the model really ran, through torch alone
