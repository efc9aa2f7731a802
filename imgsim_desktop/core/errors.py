# SPDX-License-Identifier: Apache-2.0
"""Typed exceptions raised by the core.

Every error a user can cause or meet in normal use (a missing folder, an unreadable image, a case
that was never indexed) is an :class:`ImgsimError`; front ends show its message in one line and
never a traceback.
"""


class ImgsimError(Exception):
    """Base class of every expected error raised by the core."""


class CaseNotFoundError(ImgsimError):
    """The case folder does not exist or is not a folder."""


class NotIndexedError(ImgsimError):
    """The case has no catalogue yet: run indexing first."""


class UnreadableImageError(ImgsimError):
    """An image file could not be read or decoded.

    Attributes:
        transient: the cause may pass (an I/O or permission error, a file changed while it was
            read): the next indexing run tries the file again even if it did not change.
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class ModelError(ImgsimError):
    """The embedding model or the scene head could not be loaded."""


class CatalogError(ImgsimError):
    """The catalogue is unusable (wrong schema version, corrupt database)."""


class Cancelled(ImgsimError):
    """Long work stopped because its caller asked it to.

    Attributes:
        summary: what was done and kept before it stopped (e.g. an ``IndexSummary``), if known.
    """

    def __init__(self, message: str = "cancelled by the user", summary: object = None) -> None:
        super().__init__(message)
        self.summary = summary


class CaseLockedError(ImgsimError):
    """Another process is indexing the same case (its lock is in the app data folder)."""


class StorageError(ImgsimError):
    """The app data folder could not be written (disk full, read-only): nothing was lost, the
    previous catalogue and indexes stay usable."""


class ReportError(ImgsimError):
    """A report cannot be written (refused output path, existing file, unknown format)."""


class AuditLogError(ImgsimError):
    """The case's audit log is missing, unreadable or its chain of line hashes is broken."""


class MarkError(ImgsimError):
    """An examiner's mark or note is not valid (unknown mark, bad key)."""


class EvidenceUnavailableError(ImgsimError):
    """An indexing run was refused before it changed anything: the case folder is empty or
    unreadable, or most of the files the catalogue knows are gone at once (a drive that is not
    mounted looks like that). ``allow_removal`` forgets them.

    Attributes:
        found: known files found by the scan.
        known: files the catalogue knows.
    """

    def __init__(self, message: str, found: int, known: int) -> None:
        super().__init__(message)
        self.found = found
        self.known = known


class CaseMovedError(ImgsimError):
    """A folder being indexed as a new case holds the evidence of a known case whose folder is
    gone: relink that case instead of embedding everything again.

    Attributes:
        old_root: where the known case was indexed.
        case_id: the known case's id.
    """

    def __init__(self, message: str, old_root: str, case_id: str) -> None:
        super().__init__(message)
        self.old_root = old_root
        self.case_id = case_id


class RelinkError(ImgsimError):
    """A case cannot be moved to a new folder (no such case, files that do not match, a folder
    that is already a case)."""


class HashSetError(ImgsimError):
    """A known-file hash set cannot be imported, found or removed (bad name, unreadable or
    unrecognised file, a name already taken)."""


class QueryError(ImgsimError):
    """A query that cannot be run as asked (a region outside the image, a word no label stands
    for, a saved search that does not exist)."""
