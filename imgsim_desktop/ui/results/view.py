# SPDX-License-Identifier: Apache-2.0
"""The result grid view: icon mode, static layout, Ctrl+wheel zoom, keyboard review, drag out.

Signals:
    tile_size_changed: (int) the thumbnail edge after a Ctrl+wheel zoom.
    mark_requested: (int, str) source row and mark ("include" / "not_relevant") toggled by key.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractItemView, QListView

from imgsim_desktop.ui.results.delegate import CAPTION_HEIGHT, ResultDelegate
from imgsim_desktop.ui.results.model import MARK_INCLUDE, MARK_NOT_RELEVANT

MIN_TILE, MAX_TILE = 64, 400


class ResultsView(QListView):
    """Grid of result tiles (see the module docstring for signals)."""

    tile_size_changed = Signal(int)  # new tile edge in pixels
    mark_requested = Signal(int, str)  # proxy row, mark to toggle

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.delegate = ResultDelegate(parent=self)
        self.setItemDelegate(self.delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setToolTip(
            "Arrows: move · Space: include in report · X: not relevant · Ctrl+wheel: zoom"
        )
        self.set_tile_size(self.delegate.tile_size)

    def set_tile_size(self, size: int) -> None:
        size = max(MIN_TILE, min(MAX_TILE, size))
        self.delegate.tile_size = size
        self.setGridSize(QSize(size + 12, size + CAPTION_HEIGHT + 12))
        self.setIconSize(QSize(size, size))
        self.scheduleDelayedItemsLayout()
        self.tile_size_changed.emit(size)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 16 if event.angleDelta().y() > 0 else -16
            self.set_tile_size(self.delegate.tile_size + step)
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if index.isValid() and event.key() in (Qt.Key.Key_Space, Qt.Key.Key_X):
            mark = MARK_INCLUDE if event.key() == Qt.Key.Key_Space else MARK_NOT_RELEVANT
            self.mark_requested.emit(index.row(), mark)
            event.accept()
            return
        super().keyPressEvent(event)
