# SPDX-License-Identifier: Apache-2.0
"""The case's folder tree as a lazily filled Qt model.

:func:`build_folder_tree` aggregates a catalogue's files into :class:`FolderNode` values (images
and unreadable files below each folder, children sorted) on a pool thread. The GUI thread only
hands the finished tree to :class:`FolderTreeModel`, which exposes each folder's children a batch
at a time (``canFetchMore``/``fetchMore``, as Qt's fetch-more example does): the view asks for
more rows as a folder is expanded or scrolled, so a case of thousands of folders never builds
thousands of rows at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from imgsim_desktop.ui.background import release_off_gui_thread

_Index = QModelIndex | QPersistentModelIndex
PathRole = Qt.ItemDataRole.UserRole + 1  # the folder relative to the case root ("" for the root)


@dataclass(eq=False)
class FolderNode:
    """A folder and what lies below it (recursively).

    Attributes:
        name: the folder's own name (the case folder's for the root).
        path: relative to the case root, "/"-separated ("" for the root).
        images: searchable images below it.
        unreadable: files below it that could not be read.
        children: sub-folders, by name.
        parent: the folder holding it (None for the root).
        row: its position among its parent's children.
        shown: how many of its children the model exposes so far (GUI thread only).
    """

    name: str
    path: str
    images: int = 0
    unreadable: int = 0
    children: list[FolderNode] = field(default_factory=list)
    parent: FolderNode | None = None
    row: int = 0
    shown: int = 0


def build_folder_tree(files: dict[str, tuple[int, int]]) -> FolderNode:
    """The tree of ``files``: (images, unreadable) directly in each folder ("a/b"; "" the root).
    Every ancestor of a listed folder is in the tree; counts are summed upwards."""
    root = FolderNode("", "")
    nodes = {"": root}

    def node_of(path: str) -> FolderNode:  # without recursion: trees may be very deep
        missing = []
        while path not in nodes:
            missing.append(path)
            path = path.rpartition("/")[0]
        node = nodes[path]
        for folder in reversed(missing):
            child = nodes[folder] = FolderNode(folder.rpartition("/")[2], folder, parent=node)
            node.children.append(child)
            node = child
        return node

    for path, (images, unreadable) in files.items():
        node = node_of(path)
        node.images += images
        node.unreadable += unreadable
    for node in sorted(nodes.values(), key=lambda n: -n.path.count("/") - (n.path != "")):
        node.children.sort(key=lambda child: child.name)
        for row, child in enumerate(node.children):
            child.row = row
        if node.parent is not None:  # deepest first: a node's totals are final here
            node.parent.images += node.images
            node.parent.unreadable += node.unreadable
    return root


class FolderTreeModel(QAbstractItemModel):
    """Folder / images / unreadable, children fetched ``FETCH`` at a time."""

    COLUMNS = ("Folder", "Images", "Unread.")
    HEADER_TIPS = ("Folders of the case", "Images below the folder", "Files that could not be read")
    FETCH = 200

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._top = FolderNode("", "")  # invisible; its one child is the case folder

    def set_tree(self, root: FolderNode | None) -> None:
        """Show ``root`` (None: nothing); nothing below it is exposed until asked for. The tree
        shown before is freed off the GUI thread."""
        self.beginResetModel()
        old, self._top = self._top, FolderNode("", "")
        if root is not None:
            root.parent, root.row, root.shown = self._top, 0, 0
            self._top.children = [root]
            self._top.shown = 1
        self.endResetModel()
        release_off_gui_thread(old)

    def root_index(self) -> QModelIndex:
        return self.index(0, 0) if self._top.shown else QModelIndex()

    def _node(self, index: _Index) -> FolderNode:
        return index.internalPointer() if index.isValid() else self._top

    # --- Qt model API ---------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self._node(parent)
        if parent.column() > 0 or not (0 <= row < node.shown and 0 <= column < len(self.COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: _Index | None = None):  # also QObject.parent(), without an index
        if index is None:
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        holder = self._node(index).parent
        if holder is None or holder is self._top:
            return QModelIndex()
        return self.createIndex(holder.row, 0, holder)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.column() > 0 else self._node(parent).shown

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return parent.column() <= 0 and bool(self._node(parent).children)

    def canFetchMore(self, parent: _Index) -> bool:
        node = self._node(parent)
        return parent.column() <= 0 and node.shown < len(node.children)

    def fetchMore(self, parent: _Index) -> None:
        node = self._node(parent)
        count = min(self.FETCH, len(node.children) - node.shown)
        if count <= 0:
            return
        self.beginInsertRows(parent, node.shown, node.shown + count - 1)
        node.shown += count
        self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node: FolderNode = index.internalPointer()
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (node.name, str(node.images), str(node.unreadable))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"{node.path or node.name}: {node.images} images, "
                f"{node.unreadable} files that could not be read"
            )
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == PathRole:
            return node.path
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.COLUMNS[section]
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.ToolTipRole
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.HEADER_TIPS[section]
        return None
