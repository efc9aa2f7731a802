# SPDX-License-Identifier: Apache-2.0
"""What the entry points say when something they need cannot load at start: one line naming it.

``imgsim`` (:mod:`imgsim_desktop.cli`) and ``imgsim-desktop`` (:mod:`imgsim_desktop.app`) import
everything that can be missing from a broken installation or bundle (a Python module, a shared
library of torch, Qt or numpy, a library built for another system) inside ``main``, and turn the
error into one line through :func:`describe` instead of a traceback. Where a windowed program has
no console to print to (Windows, macOS), :func:`tell` also shows the line in the system's own
dialog, since Qt itself may be what failed. Standard library only: it must work when nothing
else does.
"""

from __future__ import annotations

import re
import subprocess
import sys

#: What a library that cannot load raises: ImportError (a module missing, or an extension module
#: whose shared library is missing or broken) and OSError (ctypes loading a shared library).
LOAD_ERRORS = (ImportError, OSError)

#: A shared library's file name inside an error message (libtorch_cpu.so, libQt6Gui.so.6,
#: Qt6Gui.dll, libomp.dylib).
_LIBRARY = re.compile(r"[\w.+-]+?\.(?:so(?:\.\d+)*|dll|dylib|pyd)\b")


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(text.split())


def describe(exc: BaseException) -> str:
    """What could not load, named, in one line (for a message after "cannot start: ")."""
    detail = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"the Python module '{exc.name}' is missing ({detail})"
    library = _LIBRARY.search(detail)
    if library:
        module = getattr(exc, "name", None)
        where = f" (needed by {module})" if module else ""
        return f"the shared library {library.group(0)} cannot load{where}: {detail}"
    return f"a library cannot load: {type(exc).__name__}: {detail}"


def tell(message: str, title: str, windowed: bool) -> None:
    """Print ``message`` on stderr; a ``windowed`` program on Windows or macOS also shows it in a
    native dialog (its stderr goes nowhere). Never raises."""
    message = one_line(message)
    if sys.stderr is not None:
        print(message, file=sys.stderr)
    if not windowed:
        return
    try:
        if sys.platform == "win32":
            import ctypes

            ctypes.windll.user32.MessageBoxW(None, message, title, 0x10)  # MB_ICONERROR
        elif sys.platform == "darwin":
            script = "on run argv\ndisplay alert (item 1 of argv) message (item 2 of argv)\nend run"
            subprocess.run(["osascript", "-e", script, title, message], timeout=600, check=False)
    except Exception:  # the line is printed; a dialog that cannot show changes nothing
        pass
