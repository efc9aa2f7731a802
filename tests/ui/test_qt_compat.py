# SPDX-License-Identifier: Apache-2.0
"""Emitting signals from Python never eats references (PySide6 6.12.0 lost one of ``True`` per
emit, which killed a long indexing run with "bool_dealloc")."""

from __future__ import annotations

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
