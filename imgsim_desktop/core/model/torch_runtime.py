# SPDX-License-Identifier: Apache-2.0
"""How torch is brought into the process: OpenMP settings, its libraries, its import.

:func:`load_torch` is the one way the core imports torch first: OpenMP set to wait passively,
torch's shared libraries loaded with the GIL released, then ``import torch`` with the cyclic garbage
collector paused and its objects frozen. Done on a worker thread, it keeps a GUI thread's worst
stall near 30 ms where a plain ``import torch`` stalls it 200-500 ms (``bench/import_stall.py``
measures each step); in a CLI it makes the import about 10% faster.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import sys
from pathlib import Path

#: OpenMP defaults, applied unless the user set them. With torch's default (spinning) wait policy
#: an inference thread that waits for a descheduled sibling burns its core: on 2 cores shared
#: with other work (or with the GUI indexing while it queries) the first forward pass of a query
#: took 1.2-8 s instead of 0.3 s, and later ones were 2-3x slower than with passive waiting.
OPENMP_DEFAULTS = {"OMP_WAIT_POLICY": "PASSIVE"}


def configure_openmp() -> None:
    """Set :data:`OPENMP_DEFAULTS` in the environment where unset (no effect once torch loaded)."""
    for name, value in OPENMP_DEFAULTS.items():
        os.environ.setdefault(name, value)


#: torch's own shared libraries, in load order, with their dlopen mode: torch itself loads
#: ``libtorch_global_deps`` with RTLD_GLOBAL and the rest as dependencies of ``torch._C``.
TORCH_LIBRARIES: tuple[tuple[str, bool], ...] = (
    ("libtorch_global_deps.so", True),
    ("libtorch.so", False),
)


def torch_native_libraries() -> list[Path]:
    """torch's shared libraries (of :data:`TORCH_LIBRARIES`) that exist, found without importing
    torch; empty where torch is not installed."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return []
    lib = Path(next(iter(spec.submodule_search_locations))) / "lib"
    return [lib / name for name, _ in TORCH_LIBRARIES if (lib / name).is_file()]


def preload_native_libraries() -> list[Path]:
    """Load torch's shared libraries without holding the GIL; returns those loaded (Linux only).

    The longest piece of ``import torch`` is the ``dlopen`` of libtorch and its CUDA dependencies
    (0.2-0.5 s: their static initialisers register thousands of operators), and CPython holds the
    GIL through the ``dlopen`` of an extension module and through ``ctypes.CDLL``, so a GUI thread
    stalls. libc's ``dlopen`` called as a ctypes foreign function runs with the GIL released; a
    later ``import torch`` finds the libraries loaded and stalls far less (see
    ``bench/import_stall.py``). :func:`~imgsim_desktop.core.model.embedder.preload_libraries` calls
    it first. A library that fails to load is skipped: ``import torch`` then reports the real
    error.
    """
    configure_openmp()  # libtorch brings libgomp with it
    if not sys.platform.startswith("linux"):
        return []
    libc = ctypes.CDLL(None)  # the process's global scope, where glibc's dlopen is
    dlopen = libc.dlopen
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    modes = dict(TORCH_LIBRARIES)
    loaded = []
    for path in torch_native_libraries():
        mode = os.RTLD_NOW | (os.RTLD_GLOBAL if modes[path.name] else os.RTLD_LOCAL)
        if dlopen(os.fsencode(path), mode):
            loaded.append(path)
    return loaded


def load_torch() -> None:
    """Import torch (see the module docstring); nothing to do if it is already imported.

    The garbage collector is paused during the import: its full collections over the tens of
    thousands of objects the import creates held the GIL for 100-350 ms, on whichever thread
    allocated. The import's objects are then frozen (``gc.freeze``): they live as long as the
    process, and later collections need not scan them again. Raises ImportError as ``import``.
    """
    if "torch" in sys.modules:
        return
    preload_native_libraries()
    enabled = gc.isenabled()
    gc.disable()
    try:
        import torch  # noqa: F401
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
