# SPDX-License-Identifier: Apache-2.0
"""Evidence-grade reports of a query's matches (HTML, PDF, CSV, JSON), each with a sidecar hash.

Typical use (what the CLI's ``report`` command and the GUI's Export dialog do)::

    from imgsim_desktop.core import open_case
    from imgsim_desktop.core.report import ReportOptions, export_report

    with open_case("/evidence/phone1") as case:
        result = case.query("query.jpg", k=20)
        written = export_report(case, result, ReportOptions(examiner="A. Smith"), "/out/r.pdf")

Or in two steps, e.g. to show the data before writing: ``data = build_report(case, result,
options)`` then ``write_report(data, out_path)``.
"""

from imgsim_desktop.core.report.evidence import FileEvidence, examine_file
from imgsim_desktop.core.report.export import (
    EXTENSIONS,
    WrittenReport,
    check_export,
    check_output_path,
    export_report,
    format_for_path,
    sidecar_path,
    write_report,
)
from imgsim_desktop.core.report.model import (
    INTEGRITY_CHANGED,
    INTEGRITY_OK,
    MatchEntry,
    ReportData,
    ReportOptions,
    build_report,
)

__all__ = [
    "EXTENSIONS",
    "INTEGRITY_CHANGED",
    "INTEGRITY_OK",
    "FileEvidence",
    "MatchEntry",
    "ReportData",
    "ReportOptions",
    "WrittenReport",
    "build_report",
    "check_export",
    "check_output_path",
    "examine_file",
    "export_report",
    "format_for_path",
    "sidecar_path",
    "write_report",
]
