# SPDX-License-Identifier: Apache-2.0
"""The window's menus and toolbar: open a case or an image, export, about, quit, the thumbnail
size slider, "Show not relevant", "Hide known files" and "Near copies only". It only builds
them; the window connects what they do."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QLabel, QMainWindow, QSlider

from imgsim_desktop.ui.results.view import MAX_TILE, MIN_TILE


@dataclass(frozen=True)
class WindowActions:
    """What the menus and the toolbar hold (the window connects each)."""

    open_case: QAction
    open_image: QAction
    export: QAction
    about: QAction
    quit: QAction
    zoom: QSlider
    show_hidden: QCheckBox
    hide_known: QCheckBox
    near_copies_only: QCheckBox


def build_actions(window: QMainWindow, tile_size: int) -> WindowActions:
    """Menus and toolbar of ``window``, the slider set to ``tile_size``."""
    open_case = QAction("Open case…", window, shortcut=QKeySequence.StandardKey.Open)
    open_image = QAction("Open image…", window)
    export = QAction("Export report…", window, shortcut=QKeySequence("Ctrl+E"))
    export.setToolTip(
        "Write the marked matches (or the top results) to an HTML/PDF/CSV/JSON report"
    )
    export.setEnabled(False)
    about = QAction("About", window)
    quit_action = QAction("Quit", window, shortcut=QKeySequence.StandardKey.Quit)
    file_menu = window.menuBar().addMenu("&File")
    for action in (open_case, open_image, export, quit_action):
        file_menu.addAction(action)
    window.menuBar().addMenu("&Help").addAction(about)
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    for action in (open_case, open_image, export):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addWidget(QLabel(" Thumbnails "))
    zoom = QSlider(Qt.Orientation.Horizontal)
    zoom.setRange(MIN_TILE, MAX_TILE)
    zoom.setValue(tile_size)
    zoom.setMaximumWidth(160)
    zoom.setToolTip("Thumbnail size (also Ctrl+wheel over the grid)")
    toolbar.addWidget(zoom)
    show_hidden = QCheckBox("Show not relevant")
    show_hidden.setToolTip("Show results marked not relevant (hidden by default)")
    toolbar.addWidget(show_hidden)
    hide_known = QCheckBox("Hide known files")
    hide_known.setToolTip(
        "Search without the files a known-file hash set holds (imgsim hashset import)"
    )
    toolbar.addWidget(hide_known)
    near_copies_only = QCheckBox("Near copies only")
    near_copies_only.setToolTip(
        "Show only the copies of the query: near copies by their perceptual hash (PDQ: re-saved, "
        "resized, turned, mirrored or recoloured) and copies or crops by their pixels"
    )
    toolbar.addWidget(near_copies_only)
    return WindowActions(
        open_case,
        open_image,
        export,
        about,
        quit_action,
        zoom,
        show_hidden,
        hide_known,
        near_copies_only,
    )
