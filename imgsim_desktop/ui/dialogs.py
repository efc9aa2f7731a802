# SPDX-License-Identifier: Apache-2.0
"""The questions the window asks the examiner, and how errors read in a message box.

Each question is one modal message box with buttons that say what they do; :func:`ask` is the one
place such a box is shown (tests replace it, as pytest-qt's docs do for QMessageBox). Nothing here
changes anything: the window acts on the answer.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from imgsim_desktop.core.errors import CaseMovedError, EvidenceUnavailableError, ImgsimError
from imgsim_desktop.core.model.embedder import EmbedderIdentity


class MovedChoice(str, Enum):
    """What to do with a folder that holds a known case whose folder is gone."""

    RELINK = "relink"
    NEW_CASE = "new_case"
    NOTHING = "nothing"


def error_text(exc: object) -> str:
    """An error in plain words: the core's own message, never a traceback."""
    if isinstance(exc, ImgsimError | OSError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


def ask(
    parent: QWidget | None,
    title: str,
    text: str,
    buttons: list[tuple[str, str]],
    default: str | None = None,
) -> str:
    """Show ``text`` with one button per (key, label) and return the key of the one pressed.

    ``default`` (else the first key) is the default button; the last key is the answer to Escape
    or to closing the box, so make it the one that changes nothing.
    """
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    escape = buttons[-1][0]
    pressed = []
    for key, label in buttons:
        role = (
            QMessageBox.ButtonRole.RejectRole
            if key == escape
            else QMessageBox.ButtonRole.AcceptRole
        )
        button = box.addButton(label, role)
        pressed.append((button, key))
        if key == (default or buttons[0][0]):
            box.setDefaultButton(button)
        if key == escape:
            box.setEscapeButton(button)
    box.exec()
    clicked = box.clickedButton()
    return next((key for button, key in pressed if button is clicked), escape)


def unmounted_text(root: Path, exc: EvidenceUnavailableError) -> str:
    return (
        f"{exc.found} of {exc.known} known files found in {root}; is the drive mounted?\n\n"
        "Nothing has been changed. Forget the files that are gone? They leave the catalogue and "
        "the indexes (marks, notes and the audit log stay) and are embedded again if they come "
        "back."
    )


def unmounted_line(root: Path, exc: EvidenceUnavailableError) -> str:
    """The index panel's line when the examiner kept the files that cannot be found."""
    return (
        f"Not indexed, nothing changed: {exc.found} of {exc.known} known files found in {root}; "
        "is the drive mounted? (open the case again to forget them)"
    )


def ask_forget_missing(parent: QWidget | None, root: Path, exc: EvidenceUnavailableError) -> bool:
    """True when the examiner chose to forget the files that cannot be found."""
    answer = ask(
        parent,
        "Evidence not found",
        unmounted_text(root, exc),
        [("forget", "Forget them"), ("keep", "Keep them (change nothing)")],
        default="keep",
    )
    return answer == "forget"


def moved_text(root: Path, exc: CaseMovedError) -> str:
    return (
        f"This folder holds case {exc.case_id}, indexed at {exc.old_root}, which is gone.\n\n"
        f"Relink it here ({root})? Its catalogue, marks, notes and audit log move with it and "
        "nothing is re-embedded. Or index this folder as a new case (everything is embedded "
        "again; the old case's marks and notes stay behind)."
    )


def moved_line(exc: CaseMovedError) -> str:
    """The index panel's line when the examiner neither relinked nor indexed anew."""
    return (
        f"Not indexed: this folder holds case {exc.case_id}, indexed at {exc.old_root}, which is "
        "gone (open it again to relink it here or to index it as a new case)"
    )


def ask_moved(parent: QWidget | None, root: Path, exc: CaseMovedError) -> MovedChoice:
    answer = ask(
        parent,
        "A known case has moved",
        moved_text(root, exc),
        [
            (MovedChoice.RELINK.value, "Relink it here"),
            (MovedChoice.NEW_CASE.value, "Index as a new case"),
            (MovedChoice.NOTHING.value, "Do nothing"),
        ],
    )
    return MovedChoice(answer)


def about_text(version: str, identity: EmbedderIdentity | None, problem: str = "") -> str:
    model = (
        f"Model: {identity.model} (ImageNet EfficientNet-Lite0), {identity.pooling} pooling, "
        f"{identity.dim}-d vectors, shorter side {identity.shorter_side}px"
        f"<br>Weights SHA-256: <tt>{identity.weights_sha256}</tt>"
        if identity is not None
        else f"Model: cannot load ({problem})"
    )
    return (
        f"<b>imgsim-desktop {version}</b><br>Offline image similarity search for investigators."
        f"<br><br>{model}"
        "<br><br>The case folder is only read; everything imgsim makes lives in its data folder."
    )
