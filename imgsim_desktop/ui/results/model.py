# SPDX-License-Identifier: Apache-2.0
"""The result list model: immutable core result records, thumbnails by role, marks.

Rows are :class:`imgsim_desktop.core.pipeline.search.ResultRecord` values, each with the
:class:`~imgsim_desktop.ui.results.thumbnails.ThumbRequest` of its picture (keyed by SHA-256 and
size for the disk cache; with its case's archive folder for a past case searched from a library).
``data()`` for the decoration role returns the kept thumbnail or a placeholder (and queues the
load), so only tiles that are painted get loaded. When a thumbnail arrives, ``dataChanged`` is
emitted for that row and role only. A filter proxy narrows the grid by scene, folder and review
mark, and to near copies only (PDQ, see ``explain.py``). Results of a search over several cases
name their case (``CaseRole``: the case folder's name, with the full folder in the tooltip).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QUrl,
)
from PySide6.QtGui import QColor, QPixmap

from imgsim_desktop.core.model.pdq import NEAR_COPY_DISTANCE
from imgsim_desktop.core.pipeline.search import ResultRecord
from imgsim_desktop.ui.results import explain
from imgsim_desktop.ui.results.thumbnails import (
    ThumbnailProvider,
    ThumbOrigin,
    ThumbRequest,
    thumb_request,
)

RecordRole = Qt.ItemDataRole.UserRole + 1
ScoreRole = Qt.ItemDataRole.UserRole + 2
RankRole = Qt.ItemDataRole.UserRole + 3
MarkRole = Qt.ItemDataRole.UserRole + 4
LoadedRole = Qt.ItemDataRole.UserRole + 5
KnownRole = Qt.ItemDataRole.UserRole + 6  # the hash sets holding the file, or None
NearCopyRole = Qt.ItemDataRole.UserRole + 7  # the badge: "near copy", "copy (pixels)" or None
CaptionRole = Qt.ItemDataRole.UserRole + 8  # the tile's right-hand caption (the similarity)
CaseRole = Qt.ItemDataRole.UserRole + 9  # the case folder's name (a search of past cases), or None

MARK_INCLUDE = "include"
MARK_NOT_RELEVANT = "not_relevant"

_Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractListModel):
    """Ranked matches of the current query."""

    def __init__(self, thumbnails: ThumbnailProvider, parent=None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._records: list[ResultRecord] = []
        self._requests: list[ThumbRequest] = []
        self._row_of: dict[str, int] = {}
        self._marks: dict[tuple[str, str | None], str] = {}
        self.near_copy_threshold = NEAR_COPY_DISTANCE
        self._placeholder = QPixmap(8, 8)
        self._placeholder.fill(QColor("#3a3f44"))
        thumbnails.ready.connect(self._on_thumbnail)

    # --- contents -------------------------------------------------------------------------
    def set_results(
        self,
        records: list[ResultRecord],
        archives: dict[str, Path] | None = None,
        near_copy_threshold: int = NEAR_COPY_DISTANCE,
    ) -> None:
        """Replace every row (a new query); queued thumbnails of the old rows are dropped.
        ``archives``: archive folder by case id, for results of cases searched from a library;
        ``near_copy_threshold``: the query's (for the words of tooltips)."""
        self.beginResetModel()
        self.near_copy_threshold = near_copy_threshold
        self._thumbnails.new_generation()
        self._records = list(records)
        self._requests = [
            thumb_request(r, (archives or {}).get(r.case_id or "")) for r in self._records
        ]
        self._row_of = {request.key: i for i, request in enumerate(self._requests)}
        self.endResetModel()

    def clear(self) -> None:
        self.set_results([])

    def set_marks(self, marks: dict[tuple[str, str | None], str]) -> None:
        """Marks (include / not_relevant) by (relative path, SHA-256) of the file version."""
        self._marks = dict(marks)
        if self._records:
            self.dataChanged.emit(self.index(0), self.index(len(self._records) - 1), [MarkRole])

    def set_mark(self, row: int, mark: str | None) -> None:
        record = self._records[row]
        key = (record.path, record.sha256)
        if mark:
            self._marks[key] = mark
        else:
            self._marks.pop(key, None)
        self.dataChanged.emit(self.index(row), self.index(row), [MarkRole])

    def record(self, row: int) -> ResultRecord:
        return self._records[row]

    def request(self, row: int) -> ThumbRequest:
        """What the row's thumbnail is loaded from."""
        return self._requests[row]

    def records(self) -> list[ResultRecord]:
        return list(self._records)

    def count_marked(self, mark: str) -> int:
        """Rows (of the current results) that carry ``mark``."""
        return sum(self._marks.get((r.path, r.sha256)) == mark for r in self._records)

    def loaded_count(self) -> int:
        return sum(self._thumbnails.has(r.key) for r in self._requests)

    # --- Qt model API ---------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record, request = self._records[index.row()], self._requests[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return record.path.rsplit("/", 1)[-1]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnails.pixmap(request) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(record, request)
        if role == RecordRole:
            return record
        if role == ScoreRole:
            return record.score
        if role == RankRole:
            return record.rank
        if role == MarkRole:
            return self._marks.get((record.path, record.sha256))
        if role == LoadedRole:
            return self._thumbnails.has(request.key)
        if role == KnownRole:
            return record.known
        if role == NearCopyRole:
            return explain.badge_text(record)
        if role == CaptionRole:
            return explain.tile_caption(record)
        if role == CaseRole:
            return _case_name(record.case) if record.case_id is not None else None
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes) -> QMimeData:
        """Dragged results carry their files as URLs (drop one on the query pane to search by it)."""
        mime = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime.setUrls([QUrl.fromLocalFile(self._records[r].absolute_path) for r in rows])
        return mime

    def _tooltip(self, record: ResultRecord, request: ThumbRequest) -> str:
        lines = explain.tooltip_lines(record, self.near_copy_threshold)
        if record.case_id is not None:
            lines.append(f"case: {record.case}")
        lines.append(record.path)
        lines += [f"scene: {record.scene}", f"SHA-256: {record.sha256}"]
        if record.known:
            lines.append(f"known: {record.known}")
        if self._thumbnails.origins.get(request.key) is ThumbOrigin.ARCHIVE:
            lines.append("evidence not mounted: the thumbnail kept when the case was archived")
        elif request.key in self._thumbnails.failures:
            lines.append(f"no picture: {self._thumbnails.failures[request.key]}")
        return "\n".join(lines)

    def _on_thumbnail(self, key: str) -> None:
        row = self._row_of.get(key)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole, LoadedRole])


def _case_name(folder: str | None) -> str:
    """The last part of a case folder as indexed (any platform's separators)."""
    text = (folder or "").rstrip("/\\")
    return text.replace("\\", "/").rsplit("/", 1)[-1] or text or "?"


class ResultsFilter(QSortFilterProxyModel):
    """Shows the rows of the chosen scene(s) and folder, or near copies only; hides
    not-relevant ones unless asked."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._scenes: set[str] | None = None
        self._folder = ""
        self._show_not_relevant = False
        self._near_copies_only = False

    def set_near_copies_only(self, only: bool) -> None:
        self.beginFilterChange()
        self._near_copies_only = only
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_scenes(self, scenes: set[str] | None) -> None:
        self.beginFilterChange()
        self._scenes = scenes
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_folder(self, folder: str) -> None:
        self.beginFilterChange()
        self._folder = folder.strip("/")
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_show_not_relevant(self, show: bool) -> None:
        self.beginFilterChange()
        self._show_not_relevant = show
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        record: ResultRecord = model.data(index, RecordRole)
        if self._scenes is not None and record.scene not in self._scenes:
            return False
        if self._folder and not record.path.startswith(self._folder + "/"):
            return False
        if self._near_copies_only and not explain.is_copy(record):
            return False
        return self._show_not_relevant or model.data(index, MarkRole) != MARK_NOT_RELEVANT
