# SPDX-License-Identifier: Apache-2.0
"""The files that could not be read (or are missing), as a lazily filled list model.

The list itself is gathered off the GUI thread (:func:`~imgsim_desktop.ui.overview.case_overview`);
:class:`FailureListModel` exposes it ``FETCH`` rows at a time (``canFetchMore``/``fetchMore``, as
Qt's fetch-more example does), so a case of 200,000 unreadable files shows its first rows at once
and the view asks for more as it is scrolled; no widget item is made per file.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from imgsim_desktop.ui.background import release_off_gui_thread

_Index = QModelIndex | QPersistentModelIndex


class FailureListModel(QAbstractListModel):
    """``path: reason`` rows of a list of (path, reason), exposed a batch at a time.

    Attributes:
        total: how many failures there are (rows exposed or not).
    """

    FETCH = 200

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._failures: list[tuple[str, str]] = []
        self._shown = 0

    @property
    def total(self) -> int:
        return len(self._failures)

    def set_failures(self, failures: list[tuple[str, str]]) -> None:
        """Show ``failures`` (kept as given, not copied); the first batch at once. The list shown
        before is freed off the GUI thread."""
        self.beginResetModel()
        old, self._failures = self._failures, failures
        self._shown = min(self.FETCH, len(failures))
        self.endResetModel()
        release_off_gui_thread(old)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._shown

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and self._shown < len(self._failures)

    def fetchMore(self, parent: _Index) -> None:
        count = min(self.FETCH, len(self._failures) - self._shown)
        if parent.isValid() or count <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._shown, self._shown + count - 1)
        self._shown += count
        self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < self._shown:
            return None
        path, reason = self._failures[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return f"{path}: {reason}"
        return None
