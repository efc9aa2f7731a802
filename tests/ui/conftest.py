# SPDX-License-Identifier: Apache-2.0
"""Qt test set-up: offscreen platform (set before Qt is imported), settings isolated in the
per-test IMGSIM_HOME, and a check that no test leaves a worker thread running."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading

import pytest
from PySide6.QtCore import QThreadPool

from imgsim_desktop.app import configure_application


@pytest.fixture(autouse=True)
def _qt_app(qapp, imgsim_home):
    """Application names and QSettings under this test's IMGSIM_HOME."""
    configure_application(qapp)
    yield qapp


@pytest.fixture(autouse=True)
def _no_dangling_threads(qapp):
    """Fail a test that leaves pool work or Python threads running."""
    before = {t.ident for t in threading.enumerate()}
    yield
    assert QThreadPool.globalInstance().waitForDone(10000)
    leftover = [
        t
        for t in threading.enumerate()
        if t.ident not in before
        and t.is_alive()
        and not t.daemon
        and not t.name.startswith("Dummy")
    ]
    assert not leftover, f"threads left running: {[t.name for t in leftover]}"


@pytest.fixture
def window(qtbot):
    """A main window whose pools are shut down (and checked idle) after the test."""
    from imgsim_desktop.ui.mainwindow import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert win.pools.work.activeThreadCount() == 0
    assert win.pools.thumbs.activeThreadCount() == 0
