# SPDX-License-Identifier: Apache-2.0
"""Drawing a region on the query image: a rubber band over the drop zone's picture.

:class:`RegionSelector` watches the drop zone's mouse events (an event filter, so the zone
keeps its drop handling as it is). A drag on the shown picture draws a rectangle; on release the
rectangle is mapped from the zone's pixels to the image's upright full-resolution pixels (the
coordinates ``imgsim query --region`` takes) and :attr:`RegionSelector.region_drawn` is emitted.
A click without a drag, or a rectangle under :data:`MIN_REGION_SIDE` pixels of the image, draws
nothing.

Signals:
    region_drawn: (Region) the rectangle in the image's upright pixels.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QRubberBand

from imgsim_desktop.core.pipeline.richer.region import MIN_REGION_SIDE, Region


def picture_rect(zone: QLabel) -> QRect | None:
    """Where the zone's (centred) pixmap is drawn, in the zone's pixels; None without one."""
    pixmap = zone.pixmap()
    if pixmap is None or pixmap.isNull():
        return None
    size = pixmap.deviceIndependentSize().toSize()
    left = (zone.width() - size.width()) // 2
    top = (zone.height() - size.height()) // 2
    return QRect(QPoint(left, top), size)


def to_image_region(drawn: QRect, shown: QRect, full: QSize) -> Region | None:
    """``drawn`` (zone pixels) as a region of an image of ``full`` size shown in ``shown``."""
    clipped = drawn.normalized().intersected(shown)
    if clipped.isEmpty() or shown.width() <= 0 or shown.height() <= 0:
        return None
    sx, sy = full.width() / shown.width(), full.height() / shown.height()
    x = round((clipped.left() - shown.left()) * sx)
    y = round((clipped.top() - shown.top()) * sy)
    w = min(full.width() - x, round(clipped.width() * sx))
    h = min(full.height() - y, round(clipped.height() * sy))
    if w < MIN_REGION_SIDE or h < MIN_REGION_SIDE:
        return None
    return Region(x, y, w, h)


class RegionSelector(QObject):
    """A rubber band on ``zone``'s picture (see the module docstring).

    Attributes:
        full_size: the shown image's upright full-resolution size (set when it is known; no
            region is drawn before).
    """

    region_drawn = Signal(object)  # Region

    def __init__(self, zone: QLabel) -> None:
        super().__init__(zone)
        self.zone = zone
        self.full_size: QSize | None = None
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, zone)
        self._origin: QPoint | None = None
        zone.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.zone:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            shown = picture_rect(self.zone)
            point = event.position().toPoint()
            if event.button() == Qt.MouseButton.LeftButton and shown and shown.contains(point):
                self._origin = point
                self._band.setGeometry(QRect(point, QSize()))
                self._band.show()
                return True
        elif kind == QEvent.Type.MouseMove and self._origin is not None:
            assert isinstance(event, QMouseEvent)
            self._band.setGeometry(QRect(self._origin, event.position().toPoint()).normalized())
            return True
        elif kind == QEvent.Type.MouseButtonRelease and self._origin is not None:
            assert isinstance(event, QMouseEvent)
            drawn = QRect(self._origin, event.position().toPoint()).normalized()
            self._origin = None
            self.finish(drawn)
            return True
        return False

    def finish(self, drawn: QRect) -> None:
        """End a drag over ``drawn`` (zone pixels): emit the region, if it is one."""
        self._band.hide()
        shown = picture_rect(self.zone)
        if shown is None or self.full_size is None:
            return
        region = to_image_region(drawn, shown, self.full_size)
        if region is not None:
            self.region_drawn.emit(region)
