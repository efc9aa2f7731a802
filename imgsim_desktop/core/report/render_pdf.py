# SPDX-License-Identifier: Apache-2.0
"""The PDF report, made with reportlab (pure Python; the core never imports Qt).

A4 pages with a header (case number, case folder, "page x of y") and a footer (creation time,
where the report's own SHA-256 is kept). Thumbnails are the JPEG thumbnails of the report data,
embedded as they are. Text uses DejaVu Sans (or Arial) when the system has it, so non-Latin file
names print; otherwise the PDF core fonts, which cover Latin-1 only.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from imgsim_desktop.core.report.evidence import FileEvidence
from imgsim_desktop.core.report.model import INTEGRITY_OK, MatchEntry, ReportData

MARGIN = 15 * mm
THUMB_PT = 80.0
_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "C:/Windows/Fonts",
    "/Library/Fonts",
    "/System/Library/Fonts/Supplemental",
)
_FONT_FILES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"),
    ("arial.ttf", "arialbd.ttf", "cour.ttf"),
    ("Arial.ttf", "Arial Bold.ttf", "Courier New.ttf"),
)


@cache
def _fonts() -> tuple[str, str, str]:
    """(regular, bold, mono) font names: a Unicode TTF family when found, else core fonts."""
    for folder in _FONT_DIRS:
        for files in _FONT_FILES:
            paths = [Path(folder, f) for f in files]
            if all(p.is_file() for p in paths):
                names = tuple(f"imgsim-{p.stem}" for p in paths)
                try:
                    for name, path in zip(names, paths, strict=True):
                        pdfmetrics.registerFont(TTFont(name, str(path)))
                except Exception:  # a broken font file: try the next family
                    continue
                return names[0], names[1], names[2]
    return "Helvetica", "Helvetica-Bold", "Courier"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold, mono = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=8.5, leading=10.5)
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontName=bold, fontSize=15, leading=19),
        "h2": ParagraphStyle("h2", base, fontName=bold, fontSize=11, leading=14, spaceBefore=8),
        "key": ParagraphStyle("key", base, fontName=bold),
        "mono": ParagraphStyle("mono", base, fontName=mono, fontSize=7, leading=8.5),
        "small": ParagraphStyle(
            "small", base, fontName=mono, fontSize=6, leading=7.2, spaceAfter=2.5
        ),
    }


def _t(value: object) -> str:
    return "-" if value is None or value == "" else escape(str(value))


def _thumb(e: FileEvidence) -> Any:
    if e.thumbnail_jpeg is None:
        return "no thumbnail"
    image = Image(io.BytesIO(e.thumbnail_jpeg))
    scale = THUMB_PT / max(image.imageWidth, image.imageHeight)
    image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
    return image


def _integrity(text: str) -> str:
    return _t(text) if text == INTEGRITY_OK else f'<font color="#aa0000"><b>{_t(text)}</b></font>'


def _file_text(e: FileEvidence, rel: str | None) -> str:
    lines = [f"<b>{_t(rel)}</b>"] if rel else []
    lines += [
        _t(e.path),
        f"{_t(e.size)} bytes, {_t(e.dimensions)}, modified {_t(e.modified_utc)} UTC",
        f"EXIF date {_t(e.exif_date)}; camera {_t(e.exif_camera)}; GPS {_t(e.gps)}",
    ]
    if e.error:
        lines.append(f'<font color="#aa0000">{_t(e.error)}</font>')
    return "<br/>".join(lines)


def _hash_text(e: FileEvidence) -> str:
    return f"SHA-256 {_t(e.sha256)}<br/>MD5 {_t(e.md5)}<br/>SHA-1 {_t(e.sha1)}"


def _known(known: str | None) -> str:
    return f'<font color="#aa0000"><b>known: {_t(known)}</b></font>'


def _match_row(m: MatchEntry, st: dict[str, ParagraphStyle]) -> list[Any]:
    cell = [
        Paragraph(_file_text(m.evidence, m.path), st["base"]),
        Paragraph(_hash_text(m.evidence), st["mono"]),
        Paragraph("integrity: " + _integrity(m.integrity), st["base"]),
    ]
    if m.known:
        cell.append(Paragraph(_known(m.known), st["base"]))
    if m.mark or m.note:
        note = f"; note: {_t(m.note)}" if m.note else ""
        cell.append(Paragraph(f"<b>examiner mark: {_t(m.mark)}</b>{note}", st["base"]))
    return [
        Paragraph(
            f"<b>{m.rank}</b><br/>{m.score:.4f}<br/>{_t(m.scene)}<br/>"
            + ("<b>near copy</b><br/>" if m.near_copy else "")
            + (f"PDQ {m.pdq_distance}" if m.pdq_distance is not None else "PDQ n/a"),
            st["base"],
        ),
        _thumb(m.evidence),
        cell,
    ]


def _kv_table(rows: list[tuple[str, str]], st: dict[str, ParagraphStyle], width: float) -> Table:
    data = [[Paragraph(_t(k), st["key"]), Paragraph(v, st["base"])] for k, v in rows]
    table = Table(data, colWidths=[40 * mm, width - 40 * mm])
    table.setStyle(_grid())
    return table


def _grid() -> TableStyle:
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
    )


def _numbered_canvas(report: ReportData) -> type[Canvas]:
    regular, _bold, _mono = _fonts()
    header = f"Case {report.case_number or '-'}  |  {report.case_folder}"
    footer = f"imgsim {report.tool_version}  |  created {report.created_utc}  |  "
    footer += "this file's SHA-256 is in the .sha256 file beside it"

    class NumberedCanvas(Canvas):
        """Keeps every page until the end, then stamps "page x of y" on each."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                width, height = self._pagesize
                self.setFont(regular, 7.5)
                self.setFillColor(colors.black)
                self.drawString(MARGIN, height - 10 * mm, header[:120])
                self.drawRightString(width - MARGIN, height - 10 * mm, f"page {number} of {total}")
                self.setLineWidth(0.4)
                self.line(MARGIN, height - 11.5 * mm, width - MARGIN, height - 11.5 * mm)
                self.drawString(MARGIN, 8 * mm, footer)
                super().showPage()
            super().save()

    return NumberedCanvas


def render_pdf(report: ReportData) -> bytes:
    """The report as a paginated A4 PDF."""
    st = _styles()
    r, q = report, report.query
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 4 * mm,
        bottomMargin=MARGIN,
        title=f"Image similarity report {r.case_number}".strip(),
        author=r.examiner,
        creator=f"imgsim {r.tool_version}",
    )
    width = doc.width
    settings = ", ".join(f"{k}={v}" for k, v in r.settings.items())
    story: list[Any] = [
        Paragraph(_t(f"Image similarity report {r.case_number}".strip()), st["title"]),
        Paragraph("Case", st["h2"]),
        _kv_table(
            [
                ("Case folder", _t(r.case_folder)),
                ("Case number", _t(r.case_number)),
                ("Examiner", _t(r.examiner)),
                ("Created", f"{_t(r.created_utc)} (UTC) / {_t(r.created_local)} (local)"),
                ("Tool", f"imgsim {_t(r.tool_version)}"),
                ("Model", _t(r.model)),
                ("Weights SHA-256", f'<font name="{_fonts()[2]}">{_t(r.weights_sha256)}</font>'),
                ("Embedder / scene head", f"{_t(r.embedder)} / {_t(r.scene_head)}"),
                ("Query settings", _t(settings)),
                ("Scenes searched", _t(", ".join(r.scenes_searched))),
                ("Vectors searched", f"{r.vectors_searched} of {r.vectors_total}"),
                ("Reported", _t(f"{r.selection}: {len(r.matches)} of {r.results_total} results")),
                ("Notes", _t(r.notes)),
                (
                    "Known-file hash sets",
                    _t(
                        ", ".join(f"{s['name']} ({s['entries']} hashes)" for s in r.hash_sets)
                        or "none"
                    ),
                ),
            ],
            st,
            width,
        ),
        Paragraph("Query image", st["h2"]),
    ]
    query = Table(
        [
            [
                _thumb(q),
                [
                    Paragraph(_file_text(q, None), st["base"]),
                    Paragraph(_hash_text(q), st["mono"]),
                    Paragraph("integrity: " + _integrity(r.query_integrity), st["base"]),
                    *([Paragraph(_known(r.query_known), st["base"])] if r.query_known else []),
                    Paragraph(
                        f"scene {_t(r.query_scene)} ({r.query_scene_confidence:.2f})", st["base"]
                    ),
                ],
            ]
        ],
        colWidths=[THUMB_PT + 8, width - THUMB_PT - 8],
    )
    query.setStyle(_grid())
    story += [query, Paragraph("Matches", st["h2"])]
    if r.changed_count:
        story.append(
            Paragraph(
                f'<font color="#aa0000"><b>{r.changed_count} reported file(s) changed since '
                "indexing or could not be read at export time.</b></font>",
                st["base"],
            )
        )
    rows: list[list[Any]] = [
        [Paragraph(f"<b>{h}</b>", st["base"]) for h in ("Rank, score, scene", "Thumbnail", "File")]
    ]
    rows += [_match_row(m, st) for m in r.matches]
    if not r.matches:
        rows.append(["", "", Paragraph("no matches to report", st["base"])])
    table = Table(rows, colWidths=[22 * mm, THUMB_PT + 8, width - 22 * mm - THUMB_PT - 8])
    table.setStyle(_grid())
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]))
    table.repeatRows = 1
    story += [table, Spacer(1, 6), Paragraph("Appendix: audit log lines for this query", st["h2"])]
    story += [Paragraph(_t(line), st["small"]) for line in r.audit_lines] or [
        Paragraph("(none)", st["base"])
    ]
    doc.build(story, canvasmaker=_numbered_canvas(r))
    return out.getvalue()
