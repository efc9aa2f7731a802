# SPDX-License-Identifier: Apache-2.0
"""``imgsim-desktop [CASE_DIR] [--query IMAGE --screenshot OUT.png]``: the desktop application.

The only place a QApplication is created. The window is shown first; the case is opened (and the
model loaded, see ``ui/model_loader.py``) once its first frame is on screen. Before Qt starts, it checks that a platform plugin can
load (a display, and on X11 the xcb libraries) and otherwise says in one line what is missing,
instead of letting Qt abort. The screenshot mode opens the case, waits for indexing, runs the query,
waits until the visible thumbnails and the preview have loaded, saves the window as a PNG and exits.
"""

from __future__ import annotations

import argparse
import ctypes.util
import os
import sys
from pathlib import Path

from imgsim_desktop import __version__

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
        package for lib, package in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None
    ]
    if missing:
        return (
            "imgsim-desktop: Qt's xcb platform plugin cannot load; install the missing system "
            f"libraries: sudo apt-get install {' '.join(missing)}"
        )
    return None


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
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from imgsim_desktop.ui.mainwindow import MainWindow
    from imgsim_desktop.ui.screenshot import ScreenshotRun

    app = QApplication(sys.argv[:1])
    configure_application(app)
    # Screenshot mode neither uses nor changes the user's layout and recent cases.
    window = MainWindow(remember_settings=not args.screenshot)
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
