# SPDX-License-Identifier: Apache-2.0
"""Planning an indexing run: what to embed, what is unchanged, what is gone, what is out of view.

A scan never forgets what it could not see. Files below a folder the scan could not list are
*missing* (kept as they are, looked at again next run), never removed. And when the case folder is
empty or unreadable while the catalogue knows files, or more than half of the known files vanished
at once (a drive that is not mounted, a wrong mount point), the run is refused before anything
changes, unless the caller allows the removal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imgsim_desktop.core.errors import EvidenceUnavailableError
from imgsim_desktop.core.evidence.casefolder import CaseFile, ScanResult
from imgsim_desktop.core.store.records import (
    STATUS_FAILED,
    STATUS_INDEXED,
    STATUS_NOT_IMAGE,
    KnownFile,
)

#: A run that would forget more than this share of the known files at once is refused.
MAX_VANISHED_SHARE = 0.5


@dataclass
class Plan:
    """What one run will do.

    Attributes:
        todo: files to read (new, changed, failed for a passing reason, or embedded by another
            embedder).
        unchanged: images (and failures) left alone.
        gone: relative paths to forget (not found, and not hidden by an unlistable folder).
        missing: known relative paths below places the scan could not look into.
        reappeared: known files flagged missing before and seen again, unchanged.
        reembed: how many of ``todo`` are there only because another embedder made their vector.
    """

    todo: list[CaseFile] = field(default_factory=list)
    unchanged: int = 0
    gone: list[bytes] = field(default_factory=list)
    missing: list[bytes] = field(default_factory=list)
    reappeared: list[bytes] = field(default_factory=list)
    reembed: int = 0


def _wants_reading(previous: KnownFile, item: CaseFile, embedder_id: int | None) -> bool:
    if (previous.size, previous.mtime_ns) != (item.size, item.mtime_ns):
        return True
    if previous.status == STATUS_FAILED:
        return previous.retry
    return previous.status == STATUS_INDEXED and previous.embedder_id != embedder_id


def plan_run(
    root_label: str,
    scan: ScanResult,
    known: dict[bytes, KnownFile],
    embedder_id: int | None,
    allow_removal: bool = False,
) -> Plan:
    """Compare the scan with the catalogue; raises :class:`EvidenceUnavailableError` when the run
    would forget what looks like unmounted evidence (see the module docstring)."""
    plan = Plan()
    remaining = dict(known)
    for item in scan.files:
        previous = remaining.pop(item.relpath, None)
        if previous is None or _wants_reading(previous, item, embedder_id):
            plan.todo.append(item)
            if previous is not None and previous.status == STATUS_INDEXED:
                plan.reembed += (previous.size, previous.mtime_ns) == (item.size, item.mtime_ns)
            continue
        plan.unchanged += previous.status != STATUS_NOT_IMAGE
        if previous.missing:
            plan.reappeared.append(item.relpath)
    for relpath in remaining:
        (plan.missing if scan.hides(relpath) else plan.gone).append(relpath)
    _refuse_unless_allowed(root_label, scan, known, plan, allow_removal)
    return plan


def _refuse_unless_allowed(
    root_label: str, scan: ScanResult, known: dict[bytes, KnownFile], plan: Plan, allow: bool
) -> None:
    if allow or not known or (not plan.gone and b"." not in scan.unlisted):
        return
    found = len(known) - len(plan.gone) - len(plan.missing)
    root_unreadable = b"." in scan.unlisted
    if root_unreadable or not scan.files or len(plan.gone) > MAX_VANISHED_SHARE * len(known):
        why = "cannot be read" if root_unreadable else "is empty" if not scan.files else ""
        raise EvidenceUnavailableError(
            f"{found} of {len(known)} known files found in {root_label}"
            + (f" (the folder {why})" if why else "")
            + "; is the drive mounted? Nothing was changed "
            "(--allow-removal forgets the files that are gone)",
            found=found,
            known=len(known),
        )
