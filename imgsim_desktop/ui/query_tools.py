# SPDX-License-Identifier: Apache-2.0
"""The richer query controls under the query pane's picture, and the word search box.

- what the query is made of: its images ("a.jpg + b.jpg") and how they combine (all of / any
  of), the region drawn on the first one (with "Whole image" to drop it), and "Clear" back to
  one image;
- "Learn from my marks": results marked *not relevant* in this case push their look-alikes down
  in the next query, results marked *include* pull theirs up (relevance feedback);
- the word search box ("gun", "computer", "bed", ...), with the honest note that the words come
  from a 1000-class ImageNet classifier, not an object detector.

Signals:
    combine_changed: () the combine mode changed.
    whole_image_requested: () the region is to be dropped.
    clear_requested: () back to the first image alone, whole.
    learn_toggled: (bool) "learn from my marks" ticked or not.
    word_requested: (str) a word to search the case for.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imgsim_desktop.core.pipeline.richer.combine import Combine
from imgsim_desktop.core.pipeline.richer.region import Region

CLASSIFIER_NOTE = (
    "Words are matched to the 1000 classes of an ImageNet classifier, looking at the whole "
    "image and its parts. It is not an object detector: small objects, and things it has no "
    "class for, are missed."
)


class QueryTools(QWidget):
    """See the module docstring."""

    combine_changed = Signal()
    whole_image_requested = Signal()
    clear_requested = Signal()
    learn_toggled = Signal(bool)
    word_requested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.made_of = QLabel("Drag a rectangle on the picture to search by a region")
        self.made_of.setWordWrap(True)
        self.combine = QComboBox()
        self.combine.addItem("All of the images", Combine.ALL)
        self.combine.addItem("Any of the images", Combine.ANY)
        self.combine.setToolTip(
            "Several query images: 'all of' finds what they have in common, 'any of' the union"
        )
        self.combine.currentIndexChanged.connect(lambda _i: self.combine_changed.emit())
        self.whole = QPushButton("Whole image")
        self.whole.setToolTip("Search by the whole picture again, not the region drawn on it")
        self.whole.clicked.connect(self.whole_image_requested)
        self.clear = QPushButton("Clear")
        self.clear.setToolTip("Back to the first query image alone")
        self.clear.clicked.connect(self.clear_requested)
        self.learn = QCheckBox("Learn from my marks")
        self.learn.setToolTip(
            "Results marked 'not relevant' (X) push their look-alikes down, results marked "
            "'include' (Space) pull theirs up, in the next searches of this case"
        )
        self.learn.toggled.connect(self.learn_toggled)
        self.word = QLineEdit()
        self.word.setPlaceholderText("Find objects by a word: gun, computer, bed, car…")
        self.word.setClearButtonEnabled(True)
        self.word.returnPressed.connect(self._on_word)
        self.word_note = QLabel(CLASSIFIER_NOTE)
        self.word_note.setWordWrap(True)
        self.word_note.setStyleSheet("color: #7f8c8d;")
        self.word_note.setVisible(False)

        row = QHBoxLayout()
        row.addWidget(self.combine)
        row.addWidget(self.whole)
        row.addWidget(self.clear)
        words = QHBoxLayout()
        words.addWidget(self.word, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.made_of)
        layout.addLayout(row)
        layout.addWidget(self.learn)
        layout.addLayout(words)
        layout.addWidget(self.word_note)
        self.show_query([], None)

    def combine_mode(self) -> Combine:
        return Combine(self.combine.currentData())

    def show_query(self, images: list[Path], region: Region | None) -> None:
        """Say what the query is made of; the controls that do not apply are disabled."""
        several = len(images) > 1
        self.combine.setEnabled(several)
        self.whole.setEnabled(region is not None)
        self.clear.setEnabled(several or region is not None)
        if not images:
            self.made_of.setText("Drag a rectangle on the picture to search by a region")
            return
        names = " + ".join(p.name for p in images)
        text = f"Query: {names}" if several else f"Query: {names} (drag a rectangle for a region)"
        if region is not None:
            text += f" · region {region.x},{region.y} {region.w}×{region.h} px"
        self.made_of.setText(text)

    def _on_word(self) -> None:
        word = self.word.text().strip()
        if word:
            self.word_note.setVisible(True)
            self.word_requested.emit(word)
