# SPDX-License-Identifier: Apache-2.0
"""Qt test set-up: offscreen platform (set before Qt is imported), settings isolated in the
per-test IMGSIM_HOME, checks that no test leaves a worker thread running and that the run leaves
tracked files as they were, and windows over a gated fake embedder whose message boxes are
recorded instead of shown."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import hashlib
import subprocess
import threading

import pytest
from PySide6.QtCore import QThreadPool

from imgsim_desktop.app import configure_application
from tests.conftest import ROOT


def _tracked_changes() -> str | None:
    """A digest of every change to tracked files (None where git is not available)."""
    try:
        done = subprocess.run(
            ["git", "diff", "HEAD", "--binary"], cwd=ROOT, capture_output=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return hashlib.sha256(done.stdout).hexdigest() if done.returncode == 0 else None


@pytest.fixture(scope="session", autouse=True)
def _no_tracked_file_written():
    """Fail the run if the UI tests changed a tracked file (a bench result, a screenshot...)."""
    before = _tracked_changes()
    yield
    if before is not None:
        assert _tracked_changes() == before, "the UI tests changed tracked files (git diff HEAD)"


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
    assert not win.runner.running()
    for pool in (win.runner.index, win.runner.work, win.runner.previews, win.runner.thumbs):
        assert pool.activeThreadCount() == 0


@pytest.fixture
def make_window(qtbot, monkeypatch):
    """Windows over a (gated) fake embedder; warning boxes are recorded in ``window.warnings``;
    at the end every gate is opened, the window closed and its pools checked idle."""
    from imgsim_desktop.ui.mainwindow import MainWindow
    from imgsim_desktop.ui.tasks import TaskRunner
    from tests.ui.fakes import BatchGate, GatedEmbedder

    windows: list[MainWindow] = []
    gates: list[BatchGate] = []
    warnings: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "imgsim_desktop.ui.mainwindow.QMessageBox.warning",
        lambda _parent, title, text: warnings.append((title, text)),
    )

    def make(
        embedder: GatedEmbedder, work_threads: int = 2, wait_for_model: bool = True
    ) -> MainWindow:
        """``wait_for_model``: return once the background model load has ended."""
        if isinstance(embedder.hold, BatchGate):
            gates.append(embedder.hold)
        runner = TaskRunner()
        runner.work.setMaxThreadCount(work_threads)
        window = MainWindow(runner=runner, embedder=embedder, remember_settings=False)
        qtbot.addWidget(window)
        window.show()
        window.warnings = warnings  # type: ignore[attr-defined]
        windows.append(window)
        if wait_for_model:
            qtbot.waitUntil(lambda: window.model_loader.ended, timeout=60000)
        return window

    yield make
    if warnings:  # shown with a failing test's captured output: what the window reported
        print("message boxes:", warnings)
    for gate in gates:
        gate.release_all()
    for window in windows:
        window.close()
        assert not window.runner.running()
