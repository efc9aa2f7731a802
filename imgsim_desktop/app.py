# SPDX-License-Identifier: Apache-2.0
"""``imgsim-desktop [CASE_DIR] [--query IMAGE --screenshot OUT.png]``: the desktop application.

The only place a QApplication is created. The window is shown first; the case is opened (and
the model loaded, see ``ui/model_loader.py``) once its first frame is on screen. Before Qt
starts, it checks that a platform plugin can load (a display, on X11 the xcb libraries, and the
plugin's own file) and otherwise says in one line what is missing, instead of letting Qt abort. Whatever else cannot load at start (Qt's or the
engine's libraries, the model's files) is one message box naming it (one line on stderr in
screenshot mode, or before Qt can show anything), never a traceback. A bundled application
(PyInstaller) also registers the fonts shipped with it, for machines that have none. The
screenshot mode opens the case, waits for indexing, runs the query, waits until the visible
thumbnails and the preview have loaded, saves the window as a PNG and exits.
"""

from __future__ import annotations

import argparse
import ctypes.util
import os
import sys
from pathlib import Path

from imgsim_desktop import __version__
from imgsim_desktop.start_failure import LOAD_ERRORS, describe, one_line, tell

#: Shared libraries Qt's xcb platform plugin needs, with the Debian/Ubuntu package of each.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-xkb": "libxcb-xkb1",
    "xcb-shape": "libxcb-shape0",
    "xcb-randr": "libxcb-randr0",
    "xcb-xinerama": "libxcb-xinerama0",
}


def platform_problem(env: dict[str, str] | None = None) -> str | None:
    """Why Qt's platform plugin would fail to load here, in one line; None when it should load."""
    env = dict(os.environ if env is None else env)
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal", "vnc", "eglfs", "linuxfb")):
        return None
    wayland = platform.startswith("wayland") or (not platform and env.get("WAYLAND_DISPLAY"))
    if wayland:
        return None
    if not env.get("DISPLAY"):
        return (
            "imgsim-desktop: no display found (DISPLAY is not set); run it in a desktop session, "
            "or set QT_QPA_PLATFORM=offscreen for --screenshot"
        )
    missing = [
        package
        for lib, package in XCB_LIBRARIES.items()
        if ctypes.util.find_library(lib) is None and not bundled_library(lib)
    ]
    if missing:
        return (
            "imgsim-desktop: Qt's xcb platform plugin cannot load; install the missing system "
            f"libraries: sudo apt-get install {' '.join(missing)}"
        )
    return None


def bundle_folder() -> Path | None:
    """The folder of a bundled application's libraries and data (PyInstaller); None otherwise."""
    folder = getattr(sys, "_MEIPASS", None)
    return Path(folder) if folder else None


def bundled_library(name: str) -> bool:
    """Whether a bundled application carries the shared library ``lib<name>`` itself."""
    folder = bundle_folder()
    return folder is not None and any(folder.glob(f"lib{name}.so*"))


#: The platform plugins Qt tries when QT_QPA_PLATFORM is not set, by ``sys.platform``.
DEFAULT_PLATFORMS = {"linux": ("xcb", "wayland"), "win32": ("windows",), "darwin": ("cocoa",)}


def requested_platforms(env: dict[str, str]) -> tuple[str, ...]:
    """The platform plugins Qt will try, in order (QT_QPA_PLATFORM is "name[:options][;name]")."""
    value = env.get("QT_QPA_PLATFORM", "")
    names = tuple(part.split(":")[0].strip() for part in value.split(";") if part.strip())
    if names:
        return names
    return DEFAULT_PLATFORMS.get("linux" if sys.platform.startswith("linux") else sys.platform, ())


def platform_plugin_folders(env: dict[str, str]) -> list[Path]:
    """Where Qt looks for platform plugins: the environment's folders, then Qt's own."""
    from PySide6.QtCore import QLibraryInfo

    folders = (
        [Path(env["QT_QPA_PLATFORM_PLUGIN_PATH"])] if env.get("QT_QPA_PLATFORM_PLUGIN_PATH") else []
    )
    folders += [Path(p) / "platforms" for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    folders.append(Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms")
    folders.append(Path(sys.executable).parent / "platforms")
    return folders


def qt_plugin_problem(
    env: dict[str, str] | None = None, folders: list[Path] | None = None
) -> str | None:
    """Why Qt would find no platform plugin to load (its file missing from every folder Qt looks
    in: a damaged installation or bundle), in one line; None when one is there."""
    env = dict(os.environ if env is None else env)
    names = requested_platforms(env)
    if not names:
        return None
    folders = platform_plugin_folders(env) if folders is None else folders
    for folder in folders:
        if any(any(folder.glob(f"*q{name}*")) for name in names):
            return None
    looked = ", ".join(str(folder) for folder in folders)
    return (
        f"imgsim-desktop: cannot start: Qt's platform plugin '{names[0]}' is missing "
        f"(looked in {looked}); reinstall imgsim-desktop"
    )


def add_bundled_fonts() -> list[str]:
    """Register the fonts a bundled application carries (its ``fonts`` folder) with Qt, so text
    shows on a machine without fonts; returns the families added (none when not bundled)."""
    folder = bundle_folder()
    if folder is None:
        return []
    from PySide6.QtGui import QFontDatabase

    families: list[str] = []
    for path in sorted((folder / "fonts").glob("*.ttf")):
        families += QFontDatabase.applicationFontFamilies(
            QFontDatabase.addApplicationFont(str(path))
        )
    return families


def model_problem() -> Exception | None:
    """Why the model's files cannot load (weights, descriptor projection, scene head), or None.
    Cheap (no torch); torch itself is checked by the window (``check_libraries``)."""
    from imgsim_desktop.core.errors import ModelError
    from imgsim_desktop.core.model.descriptor import bundled_descriptor
    from imgsim_desktop.core.model.embedder import weights_path
    from imgsim_desktop.core.model.scenes import bundled_head

    try:
        weights_path()
        bundled_descriptor()
        bundled_head()
    except ModelError as exc:
        return exc
    return None


def cannot_start(message: str, interactive: bool, qt_ready: bool = False) -> int:
    """Say why the application cannot start, in one line on stderr and, when ``interactive``, in a
    message box (Qt's once a QApplication exists, else the system's where there is one)."""
    message = one_line(message)
    if interactive and qt_ready:
        from PySide6.QtWidgets import QMessageBox

        if sys.stderr is not None:
            print(message, file=sys.stderr)
        QMessageBox.critical(None, "imgsim-desktop cannot start", message)
    else:
        windowed = interactive and (sys.stderr is None or not sys.stderr.isatty())
        tell(message, "imgsim-desktop cannot start", windowed)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imgsim-desktop",
        description="Offline image similarity search for investigators (desktop application).",
    )
    parser.add_argument("case", nargs="?", metavar="CASE_DIR", help="case folder to open")
    parser.add_argument("--query", metavar="IMAGE", help="search with this image once indexed")
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="save the window to OUT.png and exit "
        "(with CASE_DIR and --query; waits for indexing and thumbnails)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600,
        help="screenshot mode: give up after this many seconds (default 600)",
    )
    parser.add_argument("--version", action="version", version=f"imgsim-desktop {__version__}")
    return parser


def configure_application(app) -> None:
    """Names and settings location (QSettings under the app data folder, so IMGSIM_HOME isolates)."""
    from PySide6.QtCore import QSettings

    from imgsim_desktop.core.paths import app_home

    app.setOrganizationName("imgsim-desktop")
    app.setApplicationName("imgsim-desktop")
    app.setApplicationVersion(__version__)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(app_home() / "settings")
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.screenshot and not (args.case and args.query):
        print("imgsim-desktop: --screenshot needs CASE_DIR and --query IMAGE", file=sys.stderr)
        return 2
    if args.case and not Path(args.case).is_dir():
        print(f"imgsim-desktop: case folder not found: {args.case}", file=sys.stderr)
        return 1
    problem = platform_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    interactive = not args.screenshot
    try:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
    except LOAD_ERRORS as exc:
        return cannot_start(f"imgsim-desktop: cannot start: Qt: {describe(exc)}", interactive)
    problem = qt_plugin_problem()
    if problem:
        return cannot_start(problem, interactive)
    app = QApplication(sys.argv[:1])
    add_bundled_fonts()
    try:
        configure_application(app)  # the first import of the engine (numpy, hnswlib, ...)
        from imgsim_desktop.ui.mainwindow import MainWindow
        from imgsim_desktop.ui.screenshot import ScreenshotRun
    except LOAD_ERRORS as exc:
        message = f"imgsim-desktop: cannot start: {describe(exc)}"
        return cannot_start(message, interactive, qt_ready=True)
    # Screenshot mode neither uses nor changes the user's layout and recent cases.
    window = MainWindow(remember_settings=not args.screenshot)
    model = model_problem()
    if model is not None and not interactive:
        print(f"imgsim-desktop: the model cannot load: {model}", file=sys.stderr)
        return 1
    if model is not None:  # once the event loop runs; the window works on what needs no model
        QTimer.singleShot(0, window, lambda: window.show_error("The model cannot load", model))
    window.show()
    if args.screenshot:
        run = ScreenshotRun(
            window, Path(args.case), Path(args.query), Path(args.screenshot), args.timeout
        )
        QTimer.singleShot(0, run.start)
        app.exec()
        return run.exit_code
    if args.case:
        QTimer.singleShot(0, lambda: open_from_arguments(window, Path(args.case), args.query))
    return app.exec()


def open_from_arguments(window, case: Path, query: str | None) -> None:
    """Open the command line's case (once the window is on screen) and run its query, on what is
    indexed so far (it waits for the model and for a first batch)."""
    window.open_case(case)
    if query and window.session is not None:
        window.run_query(Path(query))


if __name__ == "__main__":
    raise SystemExit(main())
