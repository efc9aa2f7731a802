# SPDX-License-Identifier: Apache-2.0
"""torch's shared libraries load with the GIL released, and torch works after it.

Each check runs in a fresh interpreter (a library loads once per process). While a worker thread
runs :func:`preload_native_libraries`, the main thread beats every 2 ms: had the worker held the
GIL through ``dlopen`` (as ``ctypes.CDLL`` and the import of an extension module do), the longest
gap between beats would be the whole load.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, ROOT

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="dlopen preload is Linux-only"),
]

BEAT_WHILE_PRELOADING = """
import json, sys, threading, time
from imgsim_desktop.core.model.torch_runtime import preload_native_libraries
loaded, took = [], []
def work():
    started = time.perf_counter()
    loaded.extend(str(p) for p in preload_native_libraries())
    took.append(time.perf_counter() - started)
worker = threading.Thread(target=work)
beats = [time.perf_counter()]
worker.start()
while worker.is_alive():
    time.sleep(0.002)
    beats.append(time.perf_counter())
worker.join()
maps = open("/proc/self/maps").read()
print(json.dumps({
    "loaded": loaded,
    "mapped": [p for p in loaded if p in maps],
    "took": took[0],
    "worst_gap": max(b - a for a, b in zip(beats, beats[1:])),
    "torch_imported": "torch" in sys.modules,
}))
"""

EMBED_AFTER_PRELOAD = """
from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder, preload_libraries
preload_libraries()
vector = EfficientNetLiteEmbedder().embed([load_for_embedding({image!r}, 224).pixels])
print(vector.shape)
"""


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_torch_libraries_load_without_holding_the_gil() -> None:
    result = json.loads(run(BEAT_WHILE_PRELOADING))
    names = [path.rsplit("/", 1)[-1] for path in result["loaded"]]
    assert "libtorch.so" in names and result["mapped"] == result["loaded"]
    assert not result["torch_imported"]  # only the native libraries, no Python module
    if result["took"] < 0.05:
        pytest.skip(f"the libraries loaded in {result['took']:.3f} s: too fast to see a stall")
    assert result["worst_gap"] < result["took"] / 2, result


def test_torch_imports_and_embeds_after_the_preload() -> None:
    image = str(FIXTURES / "case" / "scene0_a.jpg")
    assert run(EMBED_AFTER_PRELOAD.format(image=image)) == "(1, 256)"
