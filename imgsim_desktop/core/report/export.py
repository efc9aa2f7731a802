# SPDX-License-Identifier: Apache-2.0
"""Writing a report: choose the format, refuse unsafe paths, write it with its SHA-256 sidecar.

Formats by the output file's name: ``.html``/``.htm``, ``.pdf``, ``.csv``, ``.json`` (imgsim's
own), ``.vics.json`` (VICS 2.0 format, Project VIC) and ``.jsonld`` (CASE/UCO).

Rules: a report is never written inside the case folder (the evidence stays untouched), never
overwrites an existing report or sidecar unless ``force`` is given, and is always accompanied by
``OUT.sha256`` (``sha256sum`` format, so ``sha256sum -c`` checks it). :func:`export_report` is the
one call a front end needs: it builds, writes and records the export in the case's audit log.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imgsim_desktop.core.errors import ImgsimError, ReportError
from imgsim_desktop.core.paths import is_inside
from imgsim_desktop.core.report.model import ReportData, ReportOptions, build_report
from imgsim_desktop.core.report.render_case import render_case
from imgsim_desktop.core.report.render_html import render_html
from imgsim_desktop.core.report.render_pdf import render_pdf
from imgsim_desktop.core.report.render_table import render_csv, render_json
from imgsim_desktop.core.report.render_vics import render_vics

if TYPE_CHECKING:
    from imgsim_desktop.core.case import Case
    from imgsim_desktop.core.pipeline.search import QueryResult

RENDERERS: dict[str, Callable[[ReportData], bytes]] = {
    "html": render_html,
    "pdf": render_pdf,
    "csv": render_csv,
    "json": render_json,
    "vics": render_vics,
    "case": render_case,
}
#: Output name endings and their formats (the longest ending that matches wins).
EXTENSIONS = {
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".csv": "csv",
    ".json": "json",
    ".vics.json": "vics",
    ".jsonld": "case",
}


@dataclass(frozen=True)
class WrittenReport:
    """A report on disk.

    Attributes:
        path: the report file.
        sidecar: ``path`` + ``.sha256``.
        sha256: the report file's SHA-256.
        format: ``html``, ``pdf``, ``csv``, ``json``, ``vics`` or ``case``.
        size: bytes written.
        matches: matches in the report.
        changed: reported files whose bytes differ from the catalogue (or are unreadable).
    """

    path: Path
    sidecar: Path
    sha256: str
    format: str
    size: int
    matches: int
    changed: int


def format_for_path(out_path: str | Path) -> str:
    """The report format named by the output file's extension; raises ReportError."""
    name = Path(out_path).name.lower()
    for ending in sorted(EXTENSIONS, key=len, reverse=True):
        if name.endswith(ending) and len(name) > len(ending):
            return EXTENSIONS[ending]
    raise ReportError(
        f"cannot tell the report format from {Path(out_path).name!r}: "
        "use a .html, .pdf, .csv, .json, .vics.json or .jsonld file name"
    )


def sidecar_path(out_path: Path) -> Path:
    return out_path.with_name(out_path.name + ".sha256")


def check_output_path(out_path: str | Path, case_root: Path, force: bool = False) -> Path:
    """The absolute output path, after checking it is allowed; raises ReportError.

    Refused: a path inside the case folder, a missing output folder, and an existing report or
    sidecar unless ``force``.
    """
    out = Path(out_path).expanduser().absolute()
    format_for_path(out)
    if is_inside(out, case_root) or is_inside(out.parent, case_root):
        raise ReportError(
            f"refusing to write a report inside the case folder {case_root}: "
            "the evidence is never written to; choose an output path outside it"
        )
    if not out.parent.is_dir():
        raise ReportError(f"the output folder {out.parent} does not exist")
    if out.is_dir():
        raise ReportError(f"{out} is a folder, not a report file name")
    if not force:
        for path in (out, sidecar_path(out)):
            if path.exists() or path.is_symlink():
                raise ReportError(
                    f"{path} already exists; not overwriting it (choose another name, "
                    "or use --force to replace it)"
                )
    return out


def _write(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` to ``path``: exclusively unless ``force``, then via a replaced temp file."""
    if not force:
        with open(path, "xb") as handle:
            try:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            except BaseException:
                handle.close()
                path.unlink(missing_ok=True)
                raise
        return
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_report(
    report: ReportData, out_path: str | Path, fmt: str | None = None, force: bool = False
) -> WrittenReport:
    """Render ``report`` and write it with its ``.sha256`` sidecar; raises ReportError.

    Args:
        report: from :func:`build_report`.
        out_path: the report file; never inside the report's case folder.
        fmt: ``html``, ``pdf``, ``csv``, ``json``, ``vics`` or ``case``; by default from the
            extension.
        force: replace an existing report (and sidecar) instead of refusing.
    """
    out = check_output_path(out_path, Path(report.case_folder), force)
    fmt = fmt or format_for_path(out)
    if fmt not in RENDERERS:
        raise ReportError(f"unknown report format {fmt!r} (use one of {', '.join(RENDERERS)})")
    data = RENDERERS[fmt](report)
    digest = hashlib.sha256(data).hexdigest()
    sidecar = sidecar_path(out)
    try:
        _write(out, data, force)
        _write(sidecar, f"{digest}  {out.name}\n".encode(), force)
    except FileExistsError as exc:
        raise ReportError(f"{exc.filename} appeared while writing; not overwriting it") from exc
    except OSError as exc:
        raise ReportError(f"cannot write the report {out}: {exc.strerror or exc}") from exc
    return WrittenReport(
        out, sidecar, digest, fmt, len(data), len(report.matches), report.changed_count
    )


def check_export(case: Case, out_path: str | Path, force: bool = False) -> Path:
    """:func:`check_output_path` for a case, recording a refusal in its audit log."""
    try:
        return check_output_path(out_path, case.root, force)
    except ReportError as exc:
        path = str(Path(out_path).expanduser().absolute())
        case.audit.append("export_refused", path=path, error=str(exc))
        raise


def export_report(
    case: Case,
    result: QueryResult,
    options: ReportOptions,
    out_path: str | Path,
    fmt: str | None = None,
    force: bool = False,
) -> WrittenReport:
    """Build and write a report of one query's results, and record the export in the audit log.

    Front ends (the CLI's ``report`` command, the GUI's Export dialog) call this. A refused export
    is recorded too (``export_refused``) before the ReportError is raised.
    """
    check_export(case, out_path, force)
    try:
        written = write_report(build_report(case, result, options), out_path, fmt, force)
    except ImgsimError as exc:
        case.audit.append(
            "export_refused",
            path=str(Path(out_path).expanduser().absolute()),
            query_sha256=result.query_sha256,
            error=str(exc),
        )
        raise
    case.audit.append(
        "export",
        path=str(written.path),
        sha256=written.sha256,
        format=written.format,
        sidecar=str(written.sidecar),
        query_sha256=result.query_sha256,
        matches=written.matches,
        changed_since_indexing=written.changed,
        examiner=options.examiner,
        case_number=options.case_number,
        marked_only=options.marked_only,
        forced=force,
    )
    return written
