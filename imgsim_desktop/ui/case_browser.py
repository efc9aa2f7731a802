# SPDX-License-Identifier: Apache-2.0
"""The case browser (left pane): open a case, recent cases, the folder tree (images and
unreadable files below each folder; a lazily filled model, see ``folder_model.py``) and the scene
list, and how many known files are missing (below a folder the last scan could not list).

Signals:
    open_requested: (str) a case folder chosen by the user.
    folder_selected: ("a/b") results are narrowed to that folder ("" for all).
    scenes_selected: (set[str] | None) results are narrowed to those scenes (None for all).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop.ui.folder_model import FolderTreeModel, PathRole
from imgsim_desktop.ui.overview import CaseOverview

ALL_SCENES = "All scenes"


class CaseBrowser(QWidget):
    """Open/recent cases, folders with image counts, scenes with counts (see signals above)."""

    open_requested = Signal(str)  # case folder
    folder_selected = Signal(str)  # relative folder, "" = whole case
    scenes_selected = Signal(object)  # set of scene names, or None for all

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        open_button = QPushButton("Open case folder…")
        open_button.setToolTip("Choose an evidence folder to index and search (it is only read)")
        open_button.clicked.connect(self._choose)
        self.recent = QListWidget()
        self.recent.setToolTip("Recently opened cases: double-click to reopen")
        self.recent.setMaximumHeight(90)
        self.recent.itemActivated.connect(
            lambda item: self.open_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.folder_model = FolderTreeModel(self)
        self.folders = QTreeView()
        self.folders.setModel(self.folder_model)
        self.folders.setUniformRowHeights(True)  # no per-row size query, however many rows
        header = self.folders.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):  # wide enough for the header's words
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            title = FolderTreeModel.COLUMNS[column]
            self.folders.setColumnWidth(column, header.fontMetrics().horizontalAdvance(title) + 16)
        self.folders.setToolTip("Click a folder to show only its results")
        self.folders.selectionModel().selectionChanged.connect(self._on_folder)
        self.scenes = QListWidget()
        self.scenes.setToolTip("Select scenes to show only their results")
        self.scenes.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.scenes.itemSelectionChanged.connect(self._on_scenes)
        self.missing = QLabel()
        self.missing.setWordWrap(True)
        self.missing.setToolTip(
            "Files below a folder the last scan could not list: kept and searchable, "
            "never forgotten; they are looked at again when the folder can be read"
        )
        self.missing.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(open_button)
        layout.addWidget(QLabel("Recent cases"))
        layout.addWidget(self.recent)
        layout.addWidget(QLabel("Folders"))
        layout.addWidget(self.folders, 2)
        layout.addWidget(self.missing)
        layout.addWidget(QLabel("Scenes"))
        layout.addWidget(self.scenes, 1)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open case folder")
        if folder:
            self.open_requested.emit(folder)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(path.rstrip("/").rsplit("/", 1)[-1] or path)
            item.setToolTip(path)
            item.setData(Qt.ItemDataRole.UserRole, path)
            self.recent.addItem(item)

    def show_overview(self, case_name: str, overview: CaseOverview) -> None:
        """The overview's folders (built off the GUI thread), scenes and missing files."""
        tree = overview.tree
        if tree is not None:
            tree.name = case_name
        self.folders.selectionModel().blockSignals(True)
        self.folder_model.set_tree(tree)
        self.folders.selectionModel().blockSignals(False)
        if tree is not None:
            self.folders.expand(self.folder_model.root_index())  # fetches its first children
        self.scenes.blockSignals(True)
        self.scenes.clear()
        for scene, count in sorted(overview.scenes.items(), key=lambda kv: (-kv[1], kv[0])):
            item = QListWidgetItem(f"{scene}  ({count})")
            item.setData(Qt.ItemDataRole.UserRole, scene)
            self.scenes.addItem(item)
        self.scenes.blockSignals(False)

        self.missing.setText(
            f"{overview.missing} known files missing: their folder could not be listed"
        )
        self.missing.setVisible(overview.missing > 0)

    def clear_case(self) -> None:
        """Forget the shown case (another one is being opened)."""
        self.show_overview("", CaseOverview())

    def _on_folder(self) -> None:
        rows = self.folders.selectionModel().selectedRows()
        self.folder_selected.emit(rows[0].data(PathRole) if rows else "")

    def _on_scenes(self) -> None:
        chosen = {item.data(Qt.ItemDataRole.UserRole) for item in self.scenes.selectedItems()}
        self.scenes_selected.emit(chosen or None)
