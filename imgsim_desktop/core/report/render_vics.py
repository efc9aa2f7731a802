# SPDX-License-Identifier: Apache-2.0
"""The VICS 2.0 format export: Project VIC's JSON data model, for Griffeye, IPED, X-Ways and
other tools that read it.

One case (``value`` holds it) with the case number, the examiner as contact, imgsim as the source
application, and one ``Media`` record per distinct file content among the query and the matches:
a match that is the query file itself, or byte-identical copies, share one Media whose
``MediaFiles`` lists every path. Each Media carries the MD5, SHA-1 and size of the bytes read at
export time, the SHA-256 in ``AlternativeHashes``, the MIME type, and the similarity finding in
``MediaMetadata`` (``ImgSim.*`` properties: role, query, rank, score, scene, known, integrity,
``ImgSim.NearCopy`` as a JSON boolean and the PDQ distance; the PDQ hash as indexed is an
alternative hash);
the examiner's note is ``Comments`` and the mark ``Tags``. Booleans are JSON booleans; the file
is UTF-8 without a byte-order mark. ``Category`` is never written: imgsim has no way for the
examiner to categorise a file, and a category is the examiner's call. A file that could not be
read at export time has no hashes, so it cannot be a Media and is left out (the other formats
flag it).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from imgsim_desktop.core.report.evidence import FileEvidence
from imgsim_desktop.core.report.model import INTEGRITY_OK, ReportData

VICS_CONTEXT = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{profile}/$metadata#Cases"
)
SOURCE_APPLICATION = "imgsim"
PROPERTY_PREFIX = "ImgSim."


@dataclass
class _Media:
    """The files of one content, and what the query says about them."""

    evidence: FileEvidence
    paths: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    ranks: list[str] = field(default_factory=list)
    scores: list[str] = field(default_factory=list)
    scenes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    near_copy: bool = False
    pdq_distances: list[str] = field(default_factory=list)
    pdq_hash: str | None = None

    def add(self, evidence: FileEvidence, role: str) -> None:
        if evidence.path not in self.paths:
            self.paths.append(evidence.path)
        self.roles.append(role)


def _iso(timestamp: str | None) -> str | None:
    return None if timestamp is None else timestamp.replace("+00:00", "Z")


def _mime(evidence: FileEvidence) -> str | None:
    return Image.MIME.get(evidence.image_format or "") if evidence.image_format else None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _gather(report: ReportData) -> list[_Media]:
    media: dict[tuple[str, str, str], _Media] = {}

    def entry(evidence: FileEvidence) -> _Media | None:
        if not (evidence.md5 and evidence.sha1 and evidence.sha256):
            return None  # unreadable now: no hashes, no Media
        key = (evidence.md5, evidence.sha1, evidence.sha256)
        return media.setdefault(key, _Media(evidence))

    query = entry(report.query)
    if query is not None:
        query.add(report.query, "query")
        query.known.append(report.query_known or "")
        if report.query_integrity != INTEGRITY_OK:
            query.integrity.append(report.query_integrity)
    for m in report.matches:
        found = entry(m.evidence)
        if found is None:
            continue
        found.add(m.evidence, "match")
        found.ranks.append(str(m.rank))
        found.scores.append(f"{m.score:.6f}")
        found.scenes.append(m.scene)
        found.notes.append(m.note or "")
        found.marks.append(f"imgsim:{m.mark}" if m.mark else "")
        found.known.append(m.known or "")
        found.near_copy = found.near_copy or m.near_copy
        found.pdq_distances.append("" if m.pdq_distance is None else str(m.pdq_distance))
        found.pdq_hash = found.pdq_hash or m.pdq_hash
        if m.integrity != INTEGRITY_OK:
            found.integrity.append(f"{m.path}: {m.integrity}")
    return list(media.values())


def _metadata(found: _Media, report: ReportData) -> list[dict[str, str]]:
    properties = [
        ("Role", ", ".join(_unique(found.roles))),
        ("Query", report.query_sha256_at_query),
        ("Rank", ", ".join(found.ranks)),
        ("Score", ", ".join(found.scores)),
        ("Scene", ", ".join(_unique(found.scenes))),
        ("Known", ", ".join(_unique(found.known))),
        ("Integrity", "; ".join(found.integrity)),
        ("Model", f"{report.model} (weights SHA-256 {report.weights_sha256})"),
    ]
    rows: list[dict[str, Any]] = [
        {"PropertyName": PROPERTY_PREFIX + name, "PropertyValue": value}
        for name, value in properties
        if value
    ]
    if "match" in found.roles:  # the near-copy verdict, as a JSON boolean, for every match
        rows.append(
            {"PropertyName": PROPERTY_PREFIX + "NearCopy", "PropertyValue": found.near_copy}
        )
        if any(found.pdq_distances):
            distances = ", ".join(d for d in found.pdq_distances if d)
            rows.append(
                {"PropertyName": PROPERTY_PREFIX + "PdqDistance", "PropertyValue": distances}
            )
    return rows


def _media_record(media_id: int, found: _Media, report: ReportData) -> dict[str, Any]:
    e = found.evidence
    assert e.md5 and e.sha1 and e.sha256
    record: dict[str, Any] = {
        "MediaID": media_id,
        "MD5": e.md5.upper(),
        "SHA1": e.sha1.upper(),
        "MediaSize": e.size,
        "MimeType": _mime(e),
        "IsPrecategorized": False,
        "DateUpdated": report.created_utc,
        "Comments": " | ".join(_unique(found.notes)) or None,
        "Tags": ", ".join(_unique(found.marks)) or None,
        "AlternativeHashes": [{"HashName": "SHA256", "HashValue": e.sha256.upper()}]
        + ([{"HashName": "PDQ", "HashValue": found.pdq_hash.upper()}] if found.pdq_hash else []),
        "MediaFiles": [
            {
                "MD5": e.md5.upper(),
                "FileName": Path(path).name,
                "FilePath": path,
                "SourceID": report.case_folder,
                "Written": _iso(e.modified_utc),
                "Unallocated": False,
            }
            for path in found.paths
        ],
        "MediaMetadata": _metadata(found, report),
    }
    return {k: v for k, v in record.items() if v is not None}


def vics_case_id(report: ReportData) -> str:
    """The case's id as a GUID (its stable imgsim id; else derived from the case folder)."""
    try:
        return str(uuid.UUID(hex=report.case_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"imgsim-case:{report.case_folder}"))


def render_vics(report: ReportData) -> bytes:
    """The report as a VICS 2.0 format JSON document (UTF-8, no byte-order mark)."""
    case: dict[str, Any] = {"CaseID": vics_case_id(report)}
    if report.case_number:
        case["CaseNumber"] = report.case_number
    if report.examiner:
        case["ContactName"] = report.examiner
    case["SourceApplicationName"] = SOURCE_APPLICATION
    case["SourceApplicationVersion"] = report.tool_version
    case["Media"] = [
        _media_record(n, found, report) for n, found in enumerate(_gather(report), start=1)
    ]
    doc = {
        "@odata.context": VICS_CONTEXT.format(profile=report.vics_profile),
        "value": [case],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
