# SPDX-License-Identifier: Apache-2.0
"""The Export dialog: format (imgsim's HTML, PDF, CSV, JSON; VICS 2.0 format; CASE/UCO), output
file, examiner, case number, notes, marked-only.

The dialog only gathers choices; the report is written by the core
(:func:`imgsim_desktop.core.report.export.export_report`) in :func:`run_export`, run as a task of
the window by :func:`export_with_dialog`. The examiner's name and the last folder are remembered
(QSettings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from imgsim_desktop.core import QueryResult, open_case
from imgsim_desktop.core.report.export import WrittenReport, export_report
from imgsim_desktop.core.report.model import ReportOptions
from imgsim_desktop.ui.tasks import TaskGroup

FORMATS = {
    "HTML (self-contained page)": ".html",
    "PDF": ".pdf",
    "CSV (spreadsheet)": ".csv",
    "JSON (machine-readable)": ".json",
    "VICS 2.0 format (Project VIC JSON)": ".vics.json",
    "CASE/UCO (JSON-LD)": ".jsonld",
}


def _stem(path: Path) -> Path:
    """``path`` without its report ending (``r.vics.json`` -> ``r``)."""
    for ext in sorted(FORMATS.values(), key=len, reverse=True):
        if path.name.lower().endswith(ext) and len(path.name) > len(ext):
            return path.with_name(path.name[: -len(ext)])
    return path.with_suffix("")


@dataclass(frozen=True)
class ExportChoice:
    """What the examiner chose in the dialog."""

    path: Path
    options: ReportOptions
    overwrite: bool


class ExportDialog(QDialog):
    """Collects the export settings; ``choice()`` returns them after ``exec()`` accepted."""

    def __init__(self, default_name: str, marked: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export report")
        settings = QSettings()
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.path = QLineEdit(
            str(Path(str(settings.value("exportFolder", str(Path.home())))) / default_name)
        )
        self.path.setToolTip("The report file; it may not be inside the case folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.examiner = QLineEdit(str(settings.value("examiner", "")))
        self.case_number = QLineEdit()
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Printed in the report's header")
        self.notes.setMaximumHeight(80)
        self.marked_only = QCheckBox(f"Only the matches marked for the report ({marked})")
        self.marked_only.setChecked(marked > 0)
        self.overwrite = QCheckBox("Overwrite an existing report of that name")
        self.format.currentTextChanged.connect(self._sync_suffix)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Format:", self.format)
        form.addRow("File:", row)
        form.addRow("Examiner:", self.examiner)
        form.addRow("Case number:", self.case_number)
        form.addRow("Notes:", self.notes)
        form.addRow("", self.marked_only)
        form.addRow("", self.overwrite)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._sync_suffix()

    def _sync_suffix(self) -> None:
        path = _stem(Path(self.path.text()))
        self.path.setText(str(path.with_name(path.name + FORMATS[self.format.currentText()])))

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save report as", self.path.text())
        if name:
            self.path.setText(name)
            for label, ext in sorted(FORMATS.items(), key=lambda item: len(item[1])):
                if name.lower().endswith(ext):
                    self.format.setCurrentText(label)  # the longest matching ending wins

    def choice(self) -> ExportChoice:
        path = Path(self.path.text()).expanduser()
        settings = QSettings()
        settings.setValue("examiner", self.examiner.text())
        settings.setValue("exportFolder", str(path.parent))
        options = ReportOptions(
            examiner=self.examiner.text().strip(),
            case_number=self.case_number.text().strip(),
            notes=self.notes.toPlainText().strip(),
            marked_only=self.marked_only.isChecked(),
        )
        return ExportChoice(path, options, self.overwrite.isChecked())


def run_export(root: Path, result: QueryResult, choice: ExportChoice) -> WrittenReport:
    """Write the report the examiner chose (a task: it opens its own case)."""
    with open_case(root, log_open=False) as case:
        return export_report(case, result, choice.options, choice.path, force=choice.overwrite)


def written_text(written: WrittenReport) -> str:
    """What the "Report written" box says: the file, its SHA-256 and what it holds."""
    return (
        f"{written.path}\n\nSHA-256: {written.sha256}\n(also in {written.sidecar.name})\n"
        f"{written.matches} matches"
        + (f", {written.changed} changed since indexing" if written.changed else "")
    )


def export_with_dialog(
    window: QMainWindow,
    tasks: TaskGroup,
    root: Path,
    result: QueryResult,
    marked: int,
    on_error: Callable[[str, object], None],
) -> None:
    """Ask for the export settings, then write the report as a task; say where it went."""
    dialog = ExportDialog(f"report-{result.query_sha256[:12]}.html", marked, window)
    if dialog.exec() != ExportDialog.DialogCode.Accepted:
        return
    choice = dialog.choice()

    def written(report: WrittenReport) -> None:
        window.statusBar().showMessage(f"Report written: {report.path}", 15000)
        QMessageBox.information(window, "Report written", written_text(report))

    tasks.start(
        lambda _progress, _cancel: run_export(root, result, choice),
        name="export",
        finished=written,
        failed=lambda exc: on_error("Export failed", exc),
    )
    window.statusBar().showMessage(f"Writing {choice.path}…")
