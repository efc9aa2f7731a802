# SPDX-License-Identifier: Apache-2.0
"""The HTML report: one self-contained file, readable on screen and printable.

Thumbnails are embedded as ``data:`` URIs, the style sheet is inline and a Content-Security-Policy
forbids scripts and any network access, so the file shows the same on an offline workstation and
cannot phone home. Every value coming from the evidence (file names, EXIF text, notes) is escaped.
"""

from __future__ import annotations

import base64
import html

from imgsim_desktop.core.report.evidence import FileEvidence
from imgsim_desktop.core.report.model import INTEGRITY_OK, MatchEntry, ReportData

_CSS = """
body{font:13px/1.4 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#111;
 margin:24px;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eee;font-weight:600}
table.kv th{width:190px}
td.img{width:170px;text-align:center}
td.file{min-width:380px}
img{max-width:160px;max-height:160px}
.hash{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:11px;word-break:break-all}
.warn{color:#a00;font-weight:600}.ok{color:#060}
.muted{color:#666}
pre{white-space:pre-wrap;word-break:break-all;font-size:10px;background:#f6f6f6;padding:6px}
tr{page-break-inside:avoid;break-inside:avoid}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}
 @page{size:A4;margin:14mm}}
"""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(value: object) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


def _img(evidence: FileEvidence, alt: str) -> str:
    if evidence.thumbnail_jpeg is None:
        return '<span class="muted">no thumbnail</span>'
    data = base64.b64encode(evidence.thumbnail_jpeg).decode("ascii")
    return f'<img src="data:image/jpeg;base64,{data}" alt="{_e(alt)}">'


def _kv(rows: list[tuple[str, object]], raw: frozenset[str] = frozenset()) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v if k in raw else _e(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _hashes(e: FileEvidence) -> str:
    return (
        f'<div class="hash">SHA-256 {_e(e.sha256 or "-")}</div>'
        f'<div class="hash">MD5 {_e(e.md5 or "-")}</div>'
        f'<div class="hash">SHA-1 {_e(e.sha1 or "-")}</div>'
    )


def _known(known: str | None) -> str:
    return f'<div class="warn">known: {_e(known)}</div>' if known else ""


def _integrity(text: str) -> str:
    css = "ok" if text == INTEGRITY_OK else "warn"
    return f'<div>integrity: <span class="{css}">{_e(text)}</span></div>'


def _exif(e: FileEvidence) -> str:
    parts = [
        f"date: {_e(e.exif_date or '-')}",
        f"camera: {_e(e.exif_camera or '-')}",
        f"GPS: {_e(e.gps or '-')}",
    ]
    return "<br>".join(parts)


def _copy(m: MatchEntry) -> str:
    """The near-copy verdict and the PDQ distance under the score."""
    if m.pdq_distance is None:
        return '<br><span class="muted">PDQ n/a</span>'
    label = '<br><b class="warn">near copy</b>' if m.near_copy else ""
    return f'{label}<br><span class="muted">PDQ {m.pdq_distance}</span>'


def _match_row(m: MatchEntry) -> str:
    e = m.evidence
    mark = _e(m.mark or "-") + (f"<br>{_e(m.note)}" if m.note else "")
    return (
        f"<tr><td>{m.rank}</td><td>{m.score:.4f}<br>{_e(m.scene)}{_copy(m)}</td>"
        f'<td class="img">{_img(e, m.path)}</td>'
        f'<td class="file"><b>{_e(m.path)}</b><br><span class="muted">{_e(e.path)}</span><br>'
        f"{_e(e.size)} bytes, {_e(e.dimensions or '-')}, modified {_e(e.modified_utc)} UTC"
        f"{_hashes(e)}{_integrity(m.integrity)}{_known(m.known)}"
        + (f"<br><span class='warn'>{_e(e.error)}</span>" if e.error else "")
        + f"</td><td>{_exif(e)}</td><td>{mark}</td></tr>"
    )


def render_html(report: ReportData) -> bytes:
    """The report as a standalone HTML5 document (UTF-8)."""
    r, q = report, report.query
    settings = ", ".join(f"{k}={v}" for k, v in r.settings.items())
    header = _kv(
        [
            ("Case folder", r.case_folder),
            ("Case number", r.case_number or "-"),
            ("Examiner", r.examiner or "-"),
            ("Created", f"{r.created_utc} (UTC) / {r.created_local} (local)"),
            ("Tool", f"imgsim {r.tool_version}"),
            ("Model", r.model),
            ("Weights SHA-256", f'<span class="hash">{_e(r.weights_sha256)}</span>'),
            ("Embedder / scene head", f"{r.embedder} / {r.scene_head}"),
            ("Query settings", settings),
            ("Scenes searched", ", ".join(r.scenes_searched)),
            ("Vectors searched", f"{r.vectors_searched} of {r.vectors_total}"),
            ("Reported", f"{r.selection}: {len(r.matches)} of {r.results_total} results"),
            ("Notes", r.notes or "-"),
            (
                "Known-file hash sets",
                ", ".join(f"{s['name']} ({s['entries']} hashes)" for s in r.hash_sets) or "none",
            ),
        ],
        raw=frozenset({"Weights SHA-256"}),
    )
    query = (
        f'<table><tr><td class="img">{_img(q, "query")}</td><td>'
        + _kv(
            [
                ("Path", q.path),
                ("Size", f"{q.size} bytes" if q.size is not None else q.error),
                ("Dimensions", q.dimensions or "-"),
                ("Modified (UTC)", q.modified_utc or "-"),
                ("Hashes", _hashes(q) + _known(r.query_known)),
                ("Integrity", _integrity(r.query_integrity)),
                ("EXIF", _exif(q)),
                ("Scene", f"{r.query_scene} ({r.query_scene_confidence:.2f})"),
            ],
            raw=frozenset({"Hashes", "Integrity", "EXIF"}),
        )
        + "</td></tr></table>"
    )
    warning = (
        f'<p class="warn">{r.changed_count} reported file(s) changed since indexing or could '
        "not be read at export time; see the Integrity lines.</p>"
        if r.changed_count
        else '<p class="ok">Every reported file still has the bytes it had when indexed.</p>'
    )
    rows = "".join(_match_row(m) for m in r.matches) or (
        '<tr><td colspan="6" class="muted">no matches to report</td></tr>'
    )
    audit = "\n".join(_e(line) for line in r.audit_lines)
    title = f"Image similarity report {r.case_number}".strip()
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>{_e(title)}</title><style>{_CSS}</style></head><body>
<h1>{_e(title)}</h1>
<p class="muted">Hashes were computed from the files' bytes when this report was made and compared
with those recorded at indexing.</p>
<h2>Case</h2>{header}
<h2>Query image</h2>{query}
<h2>Matches</h2>{warning}
<table><thead><tr><th>Rank</th><th>Score / scene</th><th>Thumbnail</th><th>File</th>
<th>EXIF</th><th>Mark / note</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Appendix: audit log lines for this query</h2>
<pre>{audit or "(none)"}</pre>
</body></html>
"""
    return doc.encode("utf-8")
