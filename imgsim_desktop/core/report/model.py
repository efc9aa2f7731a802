# SPDX-License-Identifier: Apache-2.0
"""What a report says, independent of its format: :class:`ReportData` and :func:`build_report`.

``build_report`` turns a :class:`~imgsim_desktop.core.pipeline.search.QueryResult` into report data: it
re-reads every file (query and matches) to hash it now, compares the hashes with the catalogue
and flags any difference, looks the hashes up in the user's known-file hash sets, gathers EXIF
facts and thumbnails, the examiner's marks and notes, the query's reproducibility record and the
audit log lines about this query. The renderers (HTML, PDF, CSV, JSON, VICS, CASE/UCO) only
format this data.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imgsim_desktop import __version__
from imgsim_desktop.core.errors import ReportError
from imgsim_desktop.core.paths import printable
from imgsim_desktop.core.report.evidence import FileEvidence, examine_file
from imgsim_desktop.core.store.known.hashsets import KnownFiles
from imgsim_desktop.core.store.work.marks import MARK_INCLUDE

if TYPE_CHECKING:
    from imgsim_desktop.core.case import Case
    from imgsim_desktop.core.pipeline.search import QueryResult

INTEGRITY_OK = "ok"
INTEGRITY_CHANGED = "file changed since indexing"
INTEGRITY_UNREADABLE = "file unreadable at export time"
INTEGRITY_NO_HASH = "no catalogue hash to compare"
#: Project VIC profiles are short names (US, UK, CUSTOM ...).
VICS_PROFILE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")


@dataclass(frozen=True)
class ReportOptions:
    """What the examiner chooses for a report (the GUI's Export dialog, the CLI's options).

    Attributes:
        examiner: the examiner's name.
        case_number: the case (or exhibit) number.
        notes: free text printed in the report's header.
        marked_only: keep only the matches marked ``include`` (ranks are kept).
        thumbnail_side: longest side of the thumbnails in HTML and PDF, in pixels.
        vics_profile: the Project VIC profile named in a VICS export's ``@odata.context``.
    """

    examiner: str = ""
    case_number: str = ""
    notes: str = ""
    marked_only: bool = False
    thumbnail_side: int = 160
    vics_profile: str = "US"

    def __post_init__(self) -> None:
        if not VICS_PROFILE_PATTERN.match(self.vics_profile):
            raise ReportError(
                f"invalid VICS profile {self.vics_profile!r} (a short name such as US or UK)"
            )


@dataclass(frozen=True)
class MatchEntry:
    """One match as reported.

    Attributes:
        rank: the rank in the query's results (kept when only marked matches are reported).
        score: similarity plus the PDQ bonus (README, Quality); the rank follows it, except for
            "all of" several images, ranked by diffusion (``ReportData.selection`` says so).
        scene: the match's scene class.
        path: relative to the case folder.
        catalogue_sha256: the hash recorded when the file was indexed.
        evidence: the file as read at export time.
        integrity: ``ok`` or why the file cannot be vouched for (e.g. "file changed since
            indexing").
        mark: the examiner's mark (``include``, ``not_relevant``) or None.
        note: the examiner's note or None.
        known: the known-file hash sets holding the file (names joined by ", "), or None.
        similarity: the deep vectors' cosine (``score`` adds the PDQ bonus, see README).
        pdq_distance: PDQ Hamming distance to the query, or None when a hash is unusable.
        near_copy: ``pdq_distance`` at or under the query's near-copy threshold.
        pdq_hash: the file's PDQ hash as indexed (hex), or None.
    """

    rank: int
    score: float
    scene: str
    path: str
    catalogue_sha256: str | None
    evidence: FileEvidence
    integrity: str
    mark: str | None = None
    note: str | None = None
    known: str | None = None
    similarity: float = 0.0
    pdq_distance: int | None = None
    near_copy: bool = False
    pdq_hash: str | None = None


@dataclass
class ReportData:
    """Everything a report contains, in every format.

    Attributes:
        case_folder: the case folder (absolute).
        case_number, examiner, notes: from :class:`ReportOptions`.
        created_utc, created_local: when the report was built (ISO 8601).
        tool_version: the imgsim version.
        model, weights_sha256, embedder, scene_head: what computed the vectors and scenes.
        query: the query image as read at export time; query_sha256_at_query: its hash when
            the query ran; query_integrity: ``ok`` or why not.
        query_scene, query_scene_confidence: the query's scene class.
        settings: k, all_scenes, coverage and rotations of the query.
        scenes_searched, vectors_searched, vectors_total: what was searched.
        selection: which matches are reported (top k, or the marked ones among them).
        results_total: matches the query returned (before ``marked_only``).
        matches: the reported matches.
        audit_lines: the raw audit log lines about this query.
        case_id: the case's stable id (see ``imgsim cases``).
        query_known: the known-file hash sets holding the query image, or None.
        hash_sets: the hash sets the files were checked against (name, format, entries, ...).
        vics_profile: the Project VIC profile of a VICS export (not part of the other formats).
    """

    case_folder: str
    case_number: str
    examiner: str
    notes: str
    created_utc: str
    created_local: str
    tool_version: str
    model: str
    weights_sha256: str
    embedder: str
    scene_head: str
    query: FileEvidence
    query_sha256_at_query: str
    query_integrity: str
    query_scene: str
    query_scene_confidence: float
    settings: dict[str, Any]
    scenes_searched: list[str]
    vectors_searched: int
    vectors_total: int
    selection: str
    results_total: int
    matches: list[MatchEntry] = field(default_factory=list)
    audit_lines: list[str] = field(default_factory=list)
    case_id: str = ""
    query_known: str | None = None
    hash_sets: list[dict[str, Any]] = field(default_factory=list)
    vics_profile: str = "US"

    @property
    def changed_count(self) -> int:
        """Matches whose bytes no longer match the catalogue (or cannot be read)."""
        return sum(m.integrity != INTEGRITY_OK for m in self.matches)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-able data (thumbnails left out)."""

        def evidence(e: FileEvidence) -> dict[str, Any]:
            out = asdict(e)
            del out["thumbnail_jpeg"]
            out["absolute_path"] = out.pop("path")
            return out

        data = {
            k: v for k, v in self.__dict__.items() if k not in ("query", "matches", "vics_profile")
        }
        data["query"] = evidence(self.query)
        data["matches"] = [
            {
                "rank": m.rank,
                "score": round(m.score, 6),
                "similarity": round(m.similarity, 6),
                "pdq_distance": m.pdq_distance,
                "near_copy": m.near_copy,
                "pdq_hash": m.pdq_hash,
                "scene": m.scene,
                "path": m.path,
                **evidence(m.evidence),
                "catalogue_sha256": m.catalogue_sha256,
                "integrity": m.integrity,
                "mark": m.mark,
                "note": m.note,
                "known": m.known,
            }
            for m in self.matches
        ]
        data["changed_count"] = self.changed_count
        return data


def _integrity(evidence: FileEvidence, expected: str | None) -> str:
    if evidence.sha256 is None:
        return f"{INTEGRITY_UNREADABLE}: {evidence.error}"
    if expected is None:
        return INTEGRITY_NO_HASH
    return INTEGRITY_OK if evidence.sha256 == expected else INTEGRITY_CHANGED


def _ordering(result: QueryResult) -> str:
    """How the matches are ordered, where not by their score (several images, "all of")."""
    if result.settings.combine == "all" and len(result.examples) > 1:
        return (
            "; ranked by diffusion from the query images over their candidates (README, Richer"
            " queries): the score is the mean similarity to the images plus the near-copy"
            " bonus, and need not fall down the list"
        )
    return ""


def build_report(case: Case, result: QueryResult, options: ReportOptions) -> ReportData:
    """Gather the report's content for one query's results (reads every file again)."""
    results = list(result.results)
    marks = {r.path: case.mark_for(r.path, r.sha256) for r in results}
    if options.marked_only:
        results = [r for r in results if (m := marks[r.path]) and m.mark == MARK_INCLUDE]
    paths = [Path(result.query_path)] + [Path(r.absolute_path) for r in results]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="imgsim-report") as pool:
        found = list(pool.map(lambda p: examine_file(p, options.thumbnail_side), paths))
    query, evidence = found[0], found[1:]
    with KnownFiles.open() as known_files:
        known = known_files.match_many([(e.md5, e.sha1, e.sha256) for e in found])
        hash_sets = [
            {
                k: getattr(s, k)
                for k in ("name", "format", "entries", "imported_utc", "source_sha256")
            }
            for s in known_files.sets
        ]
    pdq = case.pdq_hashes([r.id for r in results])
    matches = []
    for record, facts, known_as in zip(results, evidence, known[1:], strict=True):
        mark = marks[record.path]
        matches.append(
            MatchEntry(
                rank=record.rank,
                score=record.score,
                scene=record.scene,
                path=record.path,
                catalogue_sha256=record.sha256,
                evidence=facts,
                integrity=_integrity(facts, record.sha256),
                mark=mark.mark if mark else None,
                note=mark.note if mark else None,
                # a file unreadable now is reported with what the query found
                known=known_as if facts.sha256 else record.known,
                similarity=record.similarity,
                pdq_distance=record.pdq_distance,
                near_copy=record.near_copy,
                pdq_hash=pdq.get(record.id),
            )
        )
    identity = case.embedder.identity
    now = datetime.now(timezone.utc)
    audit = case.audit.lines_for_query(result.query_sha256, [r.path for r in results])
    query_integrity = _integrity(query, result.query_sha256)
    if query_integrity == INTEGRITY_CHANGED:
        query_integrity = "query file changed since the query ran"
    return ReportData(
        case_folder=printable(case.root),
        case_number=options.case_number,
        examiner=options.examiner,
        notes=options.notes,
        created_utc=now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        created_local=now.astimezone().isoformat(timespec="seconds"),
        tool_version=__version__,
        model=identity.model,
        weights_sha256=identity.weights_sha256,
        embedder=result.embedder,
        scene_head=case.head.key,
        query=query,
        query_sha256_at_query=result.query_sha256,
        query_integrity=query_integrity,
        query_scene=result.scene,
        query_scene_confidence=round(result.scene_confidence, 4),
        settings={
            **asdict(result.settings),
            **({"saved_search": result.saved_search} if result.saved_search else {}),
            **({"examples": result.examples} if result.examples else {}),
        },
        scenes_searched=list(result.scenes_searched),
        vectors_searched=result.vectors_searched,
        vectors_total=result.vectors_total,
        selection=(
            f"matches marked '{MARK_INCLUDE}' among the top {result.settings.k}"
            if options.marked_only
            else f"top {result.settings.k} matches"
        )
        + _ordering(result),
        results_total=len(result.results),
        matches=matches,
        audit_lines=[e.raw for e in audit],
        case_id=case.info.id,
        query_known=known[0],
        hash_sets=hash_sets,
        vics_profile=options.vics_profile,
    )
