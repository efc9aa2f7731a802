# SPDX-License-Identifier: Apache-2.0
"""The desktop entry point's checks before Qt starts, as a bundle meets them: Qt's platform plugin
file, xcb libraries the bundle carries itself, the fonts it ships, the message box of a start
failure."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QFontDatabase

from imgsim_desktop import app as app_module
from imgsim_desktop.app import (
    add_bundled_fonts,
    cannot_start,
    platform_problem,
    qt_plugin_problem,
    requested_platforms,
)


def test_a_missing_platform_plugin_is_named(tmp_path: Path) -> None:
    message = qt_plugin_problem({"QT_QPA_PLATFORM": "offscreen"}, folders=[tmp_path])
    assert message is not None and "\n" not in message
    assert "'offscreen'" in message and str(tmp_path) in message


def test_a_present_platform_plugin_passes(tmp_path: Path) -> None:
    (tmp_path / "libqxcb.so").write_bytes(b"")
    assert qt_plugin_problem({"QT_QPA_PLATFORM": "wayland;xcb"}, folders=[tmp_path]) is None
    assert qt_plugin_problem({"QT_QPA_PLATFORM": "offscreen"}, folders=[tmp_path]) is not None


def test_the_installed_qt_has_its_plugins() -> None:
    assert qt_plugin_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_platform_list_and_options_are_read() -> None:
    assert requested_platforms({"QT_QPA_PLATFORM": "wayland:opt=1;xcb"}) == ("wayland", "xcb")
    if sys.platform.startswith("linux"):
        assert requested_platforms({}) == ("xcb", "wayland")


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch) -> Path:
    """A fake PyInstaller bundle folder (sys._MEIPASS)."""
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    return tmp_path


def test_xcb_libraries_a_bundle_carries_are_not_asked_for(bundle: Path, monkeypatch) -> None:
    monkeypatch.setattr("ctypes.util.find_library", lambda name: None)
    for lib in app_module.XCB_LIBRARIES:
        (bundle / f"lib{lib}.so.0").write_bytes(b"")
    assert platform_problem({"DISPLAY": ":0"}) is None


def test_fonts_shipped_with_a_bundle_are_registered(qapp, bundle: Path) -> None:
    reportlab_fonts = Path(pytest.importorskip("reportlab").__file__).parent / "fonts"
    (bundle / "fonts").mkdir()
    (bundle / "fonts" / "Vera.ttf").write_bytes((reportlab_fonts / "Vera.ttf").read_bytes())
    try:
        assert add_bundled_fonts() == ["Bitstream Vera Sans"]
    finally:
        QFontDatabase.removeAllApplicationFonts()  # later tests see the machine's fonts only


def test_not_bundled_registers_no_fonts(qapp) -> None:
    assert not hasattr(sys, "_MEIPASS")
    assert add_bundled_fonts() == []


def test_a_start_failure_is_a_message_box(qapp, monkeypatch, capsys) -> None:
    shown = []
    monkeypatch.setattr(
        "PySide6.QtWidgets.QMessageBox.critical",
        lambda parent, title, text: shown.append((title, text)),
    )
    message = "imgsim-desktop: cannot start: the shared library libtorch_cpu.so cannot load"
    assert cannot_start(message, interactive=True, qt_ready=True) == 1
    assert shown == [("imgsim-desktop cannot start", message)]
    assert cannot_start(message + "\nsecond line", interactive=False) == 1
    assert len(shown) == 1  # screenshot mode: no box, one line
    assert capsys.readouterr().err.splitlines()[-1] == message + " second line"
