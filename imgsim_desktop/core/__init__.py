# SPDX-License-Identifier: Apache-2.0
"""The engine: no Qt, no printing, no exiting; data in, data out, typed errors.

Public API::

    from imgsim_desktop.core import open_case
    case = open_case("/evidence/phone1")
    summary = case.index(progress=..., cancel=...)
    result = case.query("query.jpg", k=20, all_scenes=False)
"""

from imgsim_desktop.core.case import Case, open_case
from imgsim_desktop.core.errors import (
    Cancelled,
    CaseLockedError,
    CaseNotFoundError,
    CatalogError,
    ImgsimError,
    ModelError,
    NotIndexedError,
    StorageError,
    UnreadableImageError,
)
from imgsim_desktop.core.pipeline.indexing import IndexSummary
from imgsim_desktop.core.pipeline.search import QueryResult, ResultRecord
from imgsim_desktop.core.progress import ProgressEvent

__all__ = [
    "Cancelled",
    "Case",
    "CaseLockedError",
    "CaseNotFoundError",
    "CatalogError",
    "ImgsimError",
    "IndexSummary",
    "ModelError",
    "NotIndexedError",
    "ProgressEvent",
    "QueryResult",
    "ResultRecord",
    "StorageError",
    "UnreadableImageError",
    "open_case",
]
