# SPDX-License-Identifier: Apache-2.0
"""What the window remembers between runs (QSettings, under the app data folder): geometry, the
toolbar and dock state, both splitters, the thumbnail size and the recent cases."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

MAX_RECENT = 8
DEFAULT_SIZE = (1440, 900)


def remember_recent(path: str) -> list[str]:
    """Put ``path`` first in the recent cases; the new list."""
    settings = QSettings()
    recent = [p for p in settings.value("recentCases", [], type=list) if p != path]
    recent = [path, *recent][:MAX_RECENT]
    settings.setValue("recentCases", recent)
    return recent


def recent_cases() -> list[str]:
    return list(QSettings().value("recentCases", [], type=list))


def restore_layout(window: QMainWindow, splitters: dict[str, QSplitter]) -> int | None:
    """Geometry, state and splitters as last saved; the saved thumbnail size, if any."""
    settings = QSettings()
    if (geometry := settings.value("geometry")) is not None:
        window.restoreGeometry(geometry)
    else:
        window.resize(*DEFAULT_SIZE)
    if (state := settings.value("windowState")) is not None:
        window.restoreState(state)
    for key, splitter in splitters.items():
        if (value := settings.value(key)) is not None:
            splitter.restoreState(value)
    tile = settings.value("tileSize")
    return None if tile is None else int(tile)


def save_layout(window: QMainWindow, splitters: dict[str, QSplitter], tile_size: int) -> None:
    settings = QSettings()
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("windowState", window.saveState())
    for key, splitter in splitters.items():
        settings.setValue(key, splitter.saveState())
    settings.setValue("tileSize", tile_size)
