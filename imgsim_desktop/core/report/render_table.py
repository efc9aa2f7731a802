# SPDX-License-Identifier: Apache-2.0
"""Machine-readable reports: JSON (everything but the thumbnails) and CSV (one row per match).

The CSV is UTF-8 with a byte-order mark (so spreadsheets pick the encoding) and a header row.
Each row repeats the report-level facts (case, examiner, query, model) after the match's own
columns, so a row cut out of the file still says where it came from. Text cells that a
spreadsheet would take for a formula (starting with ``= + - @``, tab or carriage return) are
prefixed with ``'``; the JSON keeps every value raw.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from imgsim_desktop.core.report.model import ReportData

JSON_FORMAT = "imgsim-report"
JSON_VERSION = 1

CSV_COLUMNS = (
    "rank",
    "score",
    "similarity",
    "near_copy",
    "pdq_distance",
    "pdq_hash",
    "scene",
    "path",
    "absolute_path",
    "size_bytes",
    "modified_utc",
    "sha256",
    "md5",
    "sha1",
    "catalogue_sha256",
    "integrity",
    "width",
    "height",
    "exif_date",
    "exif_camera",
    "gps_latitude",
    "gps_longitude",
    "mark",
    "note",
    "known",
    "read_error",
    "case_folder",
    "case_number",
    "examiner",
    "report_created_utc",
    "tool_version",
    "model",
    "weights_sha256",
    "query_file",
    "query_sha256",
    "query_md5",
    "k",
    "scenes_searched",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_json(report: ReportData) -> bytes:
    """The report as one indented JSON document (UTF-8)."""
    data = {"format": JSON_FORMAT, "version": JSON_VERSION, **report.to_json()}
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def render_csv(report: ReportData) -> bytes:
    """One row per match with a header row (UTF-8 with BOM, CRLF line ends)."""
    shared = {
        "case_folder": report.case_folder,
        "case_number": report.case_number,
        "examiner": report.examiner,
        "report_created_utc": report.created_utc,
        "tool_version": report.tool_version,
        "model": report.model,
        "weights_sha256": report.weights_sha256,
        "query_file": report.query.path,
        "query_sha256": report.query.sha256,
        "query_md5": report.query.md5,
        "k": report.settings.get("k"),
        "scenes_searched": " ".join(report.scenes_searched),
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for m in report.matches:
        e = m.evidence
        row = {
            "rank": m.rank,
            "score": f"{m.score:.6f}",
            "similarity": f"{m.similarity:.6f}",
            "near_copy": "yes" if m.near_copy else "no",
            "pdq_distance": m.pdq_distance,
            "pdq_hash": m.pdq_hash,
            "scene": m.scene,
            "path": m.path,
            "absolute_path": e.path,
            "size_bytes": e.size,
            "modified_utc": e.modified_utc,
            "sha256": e.sha256,
            "md5": e.md5,
            "sha1": e.sha1,
            "catalogue_sha256": m.catalogue_sha256,
            "integrity": m.integrity,
            "width": e.width,
            "height": e.height,
            "exif_date": e.exif_date,
            "exif_camera": e.exif_camera,
            "gps_latitude": e.gps_latitude,
            "gps_longitude": e.gps_longitude,
            "mark": m.mark,
            "note": m.note,
            "known": m.known,
            "read_error": e.error,
            **shared,
        }
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return ("\ufeff" + out.getvalue()).encode("utf-8")
