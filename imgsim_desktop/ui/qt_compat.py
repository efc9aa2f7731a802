# SPDX-License-Identifier: Apache-2.0
"""Work-arounds for bugs of the Qt binding, each applied only where the bug is seen.

``SignalInstance.emit()`` of PySide6 6.12.0 returns ``True`` without taking a reference to it:
every emit from Python takes one reference away from ``True``. With the model loaded ``True`` has
some 40 000 references, so a long indexing run (progress events, thumbnails, previews) would end
in "Fatal Python error: bool_dealloc" and the application would die. :func:`apply` measures one
emit; when it loses a reference, ``emit`` is wrapped to give back one reference to what it
returned. On a binding without the bug nothing is changed.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 16
_applied = False


class _Probe(QObject):
    ping = Signal(object)


def emit_loses_references() -> bool:
    """True when an emit takes a reference away from what it returns (the PySide6 6.12.0 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit(None)
    return before - sys.getrefcount(True) >= _PROBES


def apply() -> bool:
    """Wrap ``SignalInstance.emit`` if it loses references (once); True when it was wrapped."""
    global _applied
    if _applied:
        return True
    if not emit_loses_references():
        return False
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None

    def emit(self: SignalInstance, *args: Any) -> Any:
        result = original(self, *args)
        incref(result)  # the reference the binding did not take
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    _applied = True
    return True
