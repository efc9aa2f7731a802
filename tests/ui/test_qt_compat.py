# SPDX-License-Identifier: Apache-2.0
"""Emitting signals from Python never eats references (PySide6 6.12.0 lost one of ``True`` per
emit, which killed a long indexing run with "bool_dealloc"), and calls of methods that return
nothing cannot use up ``None`` (the same binding loses one reference of ``None`` per call: a list
of 200,000 failures filled item by item died with "none_dealloc"), nor can disconnecting slots use
up ``True`` (it loses one reference of ``True`` per disconnect, and the task runner disconnects the
slots of every task that ends)."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QObject, Signal

import imgsim_desktop.ui  # noqa: F401  (applies the work-arounds)
from imgsim_desktop.ui import qt_compat


class Emitter(QObject):
    value = Signal(object)


def test_emitting_keeps_every_reference() -> None:
    emitter = Emitter()
    received = []
    emitter.value.connect(received.append)
    before = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    for i in range(200):
        emitter.value.emit(i)
    after = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    assert len(received) == 200
    assert [a - b for a, b in zip(after, before, strict=True)] == [0, 0, 0]
    assert not qt_compat.emit_loses_references()


def _runs_to_the_end(script: str) -> None:
    """Run ``script`` in a fresh interpreter; it must print "alive" and exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", **os.environ},
    )
    assert done.returncode == 0 and done.stdout.strip() == "alive", done.stderr[-2000:]


SETTERS = """
import sys
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
calls = sys.getrefcount(None) + 1000  # more calls than None has references
import imgsim_desktop.ui  # applies the work-arounds
label = QLabel()
for _ in range(calls):
    label.setText("x")
print("alive")
"""


def test_calls_returning_nothing_cannot_use_up_none() -> None:
    _runs_to_the_end(SETTERS)


DISCONNECTS = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
disconnects = sys.getrefcount(True) + 1000  # more disconnects than True has references
failures = sys.getrefcount(False) + 1000  # and failed ones than False has
import warnings
import imgsim_desktop.ui  # applies the work-arounds
class Emitter(QObject):
    value = Signal(object)
emitter = Emitter()
def slot(_value):
    pass
for _ in range(disconnects):
    emitter.value.connect(slot)
    emitter.value.disconnect(slot)
warnings.simplefilter("ignore")
for _ in range(failures):  # not connected: returns False (with a warning)
    try:
        emitter.value.disconnect(slot)
    except (RuntimeError, TypeError):
        pass
print("alive")
"""


def test_disconnecting_slots_cannot_use_up_true_or_false() -> None:
    _runs_to_the_end(DISCONNECTS)
