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
    """An image file could not be read or decoded."""


class ModelError(ImgsimError):
    """The embedding model or the scene head could not be loaded."""


class CatalogError(ImgsimError):
    """The catalogue is unusable (wrong schema version, corrupt database)."""


class Cancelled(ImgsimError):
    """Long work stopped because its caller asked it to."""


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
