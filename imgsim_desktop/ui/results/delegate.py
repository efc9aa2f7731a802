# SPDX-License-Identifier: Apache-2.0
"""Paints one result tile: the thumbnail fitted in the tile, rank and similarity, review mark, a
"known" badge for files a known-file hash set holds, a "near copy" badge for results PDQ finds
within the near-copy distance of the query, and the case's name on results of a search over
several cases."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from imgsim_desktop.ui.results.model import (
    MARK_INCLUDE,
    MARK_NOT_RELEVANT,
    CaptionRole,
    CaseRole,
    KnownRole,
    MarkRole,
    NearCopyRole,
    RankRole,
)

CAPTION_HEIGHT = 22
MARK_COLOURS = {MARK_INCLUDE: QColor("#2e9e4f"), MARK_NOT_RELEVANT: QColor("#c0392b")}
MARK_TEXT = {MARK_INCLUDE: "\u2713 report", MARK_NOT_RELEVANT: "\u2717 not relevant"}
KNOWN_COLOUR = QColor("#7d3c98")
NEAR_COPY_COLOUR = QColor("#d35400")
CASE_BAND_COLOUR = QColor(0, 0, 0, 170)


class ResultDelegate(QStyledItemDelegate):
    """Tile painter; ``tile_size`` is the thumbnail edge in pixels (changed by zooming)."""

    def __init__(self, tile_size: int = 160, parent=None) -> None:
        super().__init__(parent)
        self.tile_size = tile_size

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(self.tile_size + 8, self.tile_size + CAPTION_HEIGHT + 8)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        rect: QRect = option.rect.adjusted(2, 2, -2, -2)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        background = (
            palette.color(QPalette.ColorRole.Highlight)
            if selected
            else palette.color(QPalette.ColorRole.Base)
        )
        painter.fillRect(rect, background)

        image_rect = QRect(
            rect.x() + 2, rect.y() + 2, rect.width() - 4, rect.height() - CAPTION_HEIGHT - 4
        )
        pixmap: QPixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.scaled(
                image_rect.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            x = image_rect.x() + (image_rect.width() - scaled.width()) // 2
            y = image_rect.y() + (image_rect.height() - scaled.height()) // 2
            painter.drawPixmap(x, y, scaled)

        mark = index.data(MarkRole)
        if mark in MARK_COLOURS:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(MARK_COLOURS[mark])
            badge = QRect(
                image_rect.x() + 4, image_rect.y() + 4, 96 if mark == MARK_NOT_RELEVANT else 64, 18
            )
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, MARK_TEXT[mark])

        if index.data(KnownRole):  # the set names are in the tooltip
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(KNOWN_COLOUR)
            badge = QRect(image_rect.right() - 52, image_rect.y() + 4, 48, 18)
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "known")

        badge_text = index.data(NearCopyRole)
        if badge_text:  # the PDQ distance or the correlation is in the tooltip and detail pane
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(NEAR_COPY_COLOUR)
            width = QFontMetrics(option.font).horizontalAdvance(badge_text) + 12
            badge = QRect(image_rect.x() + 4, image_rect.bottom() - 22, width, 18)
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, badge_text)

        case_name = index.data(CaseRole)
        if case_name:  # a search over several cases: which case holds the file
            band = QRect(image_rect.x(), image_rect.y() + 24, image_rect.width(), 18)
            painter.fillRect(band, CASE_BAND_COLOUR)
            painter.setPen(QColor("white"))
            metrics = QFontMetrics(option.font)
            text = metrics.elidedText(
                f"case {case_name}", Qt.TextElideMode.ElideMiddle, band.width() - 8
            )
            painter.drawText(band.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, text)

        caption = QRect(
            rect.x() + 4, rect.bottom() - CAPTION_HEIGHT, rect.width() - 8, CAPTION_HEIGHT
        )
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        text_colour = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        painter.setPen(text_colour)
        painter.drawText(
            caption,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"#{index.data(RankRole)}",
        )
        font.setBold(False)
        painter.setFont(font)
        painter.drawText(
            caption,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            index.data(CaptionRole) or "",
        )
        painter.restore()
