# SPDX-License-Identifier: Apache-2.0
"""A picture that fits its view, zoomed with the wheel and dragged with the mouse (the detail
pane's previews)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView


class ZoomView(QGraphicsView):
    """A picture that fits the view, zoomed with the wheel, dragged with the mouse."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setMinimumSize(160, 120)
        self.setToolTip("Wheel: zoom · drag: pan · double-click: fit")
        self._fit = True

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self._item.setPixmap(pixmap or QPixmap())
        self.scene().setSceneRect(self._item.boundingRect())
        self._fit = True
        self.fit()

    def has_picture(self) -> bool:
        return not self._item.pixmap().isNull()

    def fit(self) -> None:
        if not self._item.pixmap().isNull():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._fit = False
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)

    def mouseDoubleClickEvent(self, event) -> None:
        self._fit = True
        self.fit()
