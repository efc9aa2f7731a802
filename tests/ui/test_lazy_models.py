# SPDX-License-Identifier: Apache-2.0
"""The folder tree and the failure list are lazily filled models: Qt's model tester passes on
them, counts are summed up the tree off the GUI thread, rows are exposed a batch at a time and a
view asks for more as it scrolls."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QListView, QTreeView

from imgsim_desktop.ui.failure_model import FailureListModel
from imgsim_desktop.ui.folder_model import FolderTreeModel, PathRole, build_folder_tree


def sample_files() -> dict[str, tuple[int, int]]:
    """450 folders under "big" (3 files unreadable each), a deeper branch, images at the root."""
    files = {"": (2, 0), "deep/a/b/c": (5, 1), "deep/a": (1, 0)}
    files.update({f"big/f{i:03d}": (1, 3) for i in range(450)})
    return files


def test_counts_are_summed_up_the_tree() -> None:
    root = build_folder_tree(sample_files())
    assert (root.images, root.unreadable) == (2 + 6 + 450, 1 + 1350)
    big, deep = root.children  # sorted by name
    assert (big.name, big.path, len(big.children), big.unreadable) == ("big", "big", 450, 1350)
    c = deep.children[0].children[0].children[0]
    assert (c.path, c.images, deep.images, deep.children[0].images) == ("deep/a/b/c", 5, 6, 6)


def test_a_tree_thousands_of_levels_deep_is_built() -> None:
    path = "/".join(f"d{i}" for i in range(3000))
    root = build_folder_tree({path: (1, 0)})
    assert root.images == 1 and root.children[0].images == 1


def test_folder_model_passes_the_model_tester_and_fetches_in_batches(qtmodeltester) -> None:
    qtmodeltester.check(FolderTreeModel())  # empty
    model = FolderTreeModel()
    tree = build_folder_tree(sample_files())
    tree.name = "case"
    model.set_tree(tree)
    root = model.root_index()
    assert model.rowCount() == 1 and root.data() == "case" and root.data(PathRole) == ""
    assert model.index(0, 1).data() == "458" and model.index(0, 2).data() == "1351"
    assert model.hasChildren(root) and model.rowCount(root) == 0 and model.canFetchMore(root)
    model.fetchMore(root)
    big = model.index(0, 0, root)
    assert big.data() == "big" and model.rowCount(big) == 0 and model.canFetchMore(big)
    model.fetchMore(big)
    assert model.rowCount(big) == FolderTreeModel.FETCH
    assert model.parent(model.index(5, 0, big)) == big and model.parent(big) == root
    qtmodeltester.check(model)  # with some levels fetched (the tester fetches more itself)


def test_failure_model_passes_the_model_tester_and_fetches_in_batches(qtmodeltester) -> None:
    model = FailureListModel()
    failures = [(f"dir/IMG_{i:05d}.jpg", "empty file (0 bytes)") for i in range(1000)]
    model.set_failures(failures)
    assert model.total == 1000 and model.rowCount() == FailureListModel.FETCH
    assert model.index(0).data() == "dir/IMG_00000.jpg: empty file (0 bytes)"
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 2 * FailureListModel.FETCH
    qtmodeltester.check(model)


def test_views_fetch_more_rows_as_they_scroll(qtbot) -> None:
    failures = FailureListModel()
    failures.set_failures([(f"f{i}", "unreadable") for i in range(5000)])
    view = QListView()
    view.setUniformItemSizes(True)
    view.setModel(failures)
    view.resize(300, 120)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    first = failures.rowCount()
    view.scrollToBottom()
    qtbot.waitUntil(lambda: failures.rowCount() > first, timeout=5000)
    assert failures.rowCount() < 5000

    folders = FolderTreeModel()
    folders.set_tree(build_folder_tree(sample_files()))
    tree = QTreeView()
    tree.setUniformRowHeights(True)
    tree.setModel(folders)
    qtbot.addWidget(tree)
    tree.show()
    tree.expand(folders.root_index())  # expanding fetches the children
    assert folders.rowCount(folders.root_index()) == 2
