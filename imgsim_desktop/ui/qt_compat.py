# SPDX-License-Identifier: Apache-2.0
"""Work-arounds for bugs of the Qt binding, each applied only where the bug is seen.

``SignalInstance.emit()`` of PySide6 6.12.0 returns ``True`` without taking a reference to it:
every emit from Python takes one reference away from ``True``. With the model loaded ``True`` has
some 40 000 references, so a long indexing run (progress events, thumbnails, previews) would end
in "Fatal Python error: bool_dealloc" and the application would die. :func:`apply` measures one
emit; when it loses a reference, ``emit`` is wrapped to give back one reference to what it
returned. On a binding without the bug nothing is changed.

The same binding also loses a reference to ``None`` on every call of a method that returns nothing
(``setText``, ``addItem``, ``beginInsertRows``...): ``None`` starts with some 13 000 references
(60 000 with torch loaded), so 200 000 ``addItem`` calls, or a week of progress updates, end in
"Fatal Python error: none_dealloc". Wrapping every method is not possible; where the loss is
measured (on CPython before 3.12, whose ``None`` is not immortal), :func:`apply` gives ``None``
2**40 references more, which no session can use up (CPython 3.12 and later make ``None``
immortal in the same way).

``SignalInstance.disconnect()`` of the same binding loses a reference to ``True`` on every call
(the task runner disconnects a finished task's slots: some 7 per query, thumbnail batch or
overview), so a long session would die of "bool_dealloc" too. Where that loss is measured,
``True`` gets the same reserve, which covers any other call of the binding that loses ``True``,
and so does ``False`` (a disconnect that fails returns ``False`` and loses a reference to it).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 16
#: References given to None where void calls lose them: a million calls a second for 12 days.
NONE_RESERVE = 1 << 40
_applied = False
_reserved: set[str] = set()


class _Probe(QObject):
    ping = Signal(object)


def emit_loses_references() -> bool:
    """True when an emit takes a reference away from what it returns (the PySide6 6.12.0 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit(None)
    return before - sys.getrefcount(True) >= _PROBES


def void_call_loses_none() -> bool:
    """True when calling a method that returns nothing takes a reference away from ``None``."""
    probe = _Probe()
    before = sys.getrefcount(None)
    for _ in range(_PROBES):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= _PROBES


def disconnect_loses_true() -> bool:
    """True when disconnecting a slot takes a reference away from ``True``."""
    probe = _Probe()

    def slot(_value: object) -> None:
        pass

    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.connect(slot)
        probe.ping.disconnect(slot)
    return before - sys.getrefcount(True) >= _PROBES


def _mortal() -> bool:
    """True where None, True and False can run out of references (CPython before 3.12)."""
    return sys.implementation.name == "cpython" and sys.version_info < (3, 12)


def _reserve(name: str, constant: object, loses: bool) -> bool:
    """Give ``constant`` (None or True) :data:`NONE_RESERVE` references (once) when the binding
    ``loses`` them; True when it has them."""
    if name in _reserved:
        return True
    if not loses:
        return False
    count = ctypes.c_ssize_t.from_address(id(constant))  # ob_refcnt, the object's first field
    before = sys.getrefcount(constant)
    count.value += NONE_RESERVE
    # Not the layout expected: undo. Compared with a margin, not exactly: a garbage collection
    # or a freed temporary in between drops a reference or two (seen: 1 in 2 runs).
    if abs(sys.getrefcount(constant) - before - NONE_RESERVE) > NONE_RESERVE // 2:
        count.value -= NONE_RESERVE
        return False
    _reserved.add(name)
    return True


def reserve_none_references() -> bool:
    """Give ``None`` :data:`NONE_RESERVE` references (once) if void calls lose them; True when
    it has them."""
    return _reserve("None", None, _mortal() and void_call_loses_none())


def reserve_true_references() -> bool:
    """Give ``True`` :data:`NONE_RESERVE` references (once) if disconnecting loses them, and
    ``False`` as many (a disconnect that fails returns False the same way); True when ``True``
    has them."""
    loses = _mortal() and disconnect_loses_true()
    reserved = _reserve("True", True, loses)
    _reserve("False", False, loses)
    return reserved


def apply() -> bool:
    """Wrap ``SignalInstance.emit`` if it loses references (once), and reserve references of
    ``None`` and ``True`` where void calls and disconnects lose them; True when emit was
    wrapped."""
    global _applied
    reserve_none_references()
    reserve_true_references()
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
