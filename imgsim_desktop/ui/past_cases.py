# SPDX-License-Identifier: Apache-2.0
""" "Search past cases": one query over every case this user has indexed and every archived case
of the library folders the examiner added, as ``imgsim search`` does (``core/pipeline/cases/library.py``:
:func:`open_sources` and :func:`search_cases`; the query is embedded once).

:func:`search_past_cases` is the work (run as a task, never on the GUI thread); it also finds,
for the cases searched from this user's data, the archive a library keeps of them, so that a case
whose evidence is not mounted still shows the thumbnails kept in its archive. The library folders
are remembered in the user's settings (:func:`library_folders`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings

from imgsim_desktop.core.errors import NotIndexedError, RelinkError
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import SceneHead, bundled_head
from imgsim_desktop.core.pipeline.cases.library import open_sources, search_cases
from imgsim_desktop.core.pipeline.query import QuerySettings
from imgsim_desktop.core.pipeline.results import QueryResult
from imgsim_desktop.core.store.cases.archive import list_archives
from imgsim_desktop.core.store.cases.registry import find_case

SETTINGS_KEY = "pastCases/libraries"


@dataclass
class PastCaseSearch:
    """A search over past cases, with what the window needs to show it.

    Attributes:
        result: the merged ranking (each result names its case and case id).
        archives: archive folder by case id (thumbnails of cases whose evidence is not here).
        open_case_id: the id of the case open in the window (its results can be marked), or None.
    """

    result: QueryResult
    archives: dict[str, Path] = field(default_factory=dict)
    open_case_id: str | None = None


def search_past_cases(
    image: Path,
    libraries: list[Path],
    embedder: Embedder,
    head: SceneHead | None,
    settings: QuerySettings,
    open_root: Path | None = None,
) -> PastCaseSearch:
    """Search every case of this user and every archive of ``libraries`` with ``image`` (a
    task). Raises NotIndexedError when there is no case to search, UnreadableImageError for an
    image that cannot be read."""
    sources = open_sources(embedder, None, libraries)
    try:
        if not sources.searched:
            reasons = "; ".join(f"{s['case']}: {s['reason']}" for s in sources.skipped)
            raise NotIndexedError(
                "no past case to search (index a case, or add a library folder)"
                + (f"; not searched: {reasons}" if reasons else "")
            )
        result = next(search_cases([image], sources, embedder, head or bundled_head(), settings))
        archives = dict(sources.archives)
    finally:
        sources.close()
    for library in libraries:  # archives of cases searched from this user's data
        for archive in list_archives(library):
            archives.setdefault(archive.id, archive.path)
    open_id = None
    if open_root is not None:
        with contextlib.suppress(RelinkError):
            open_id = find_case(str(open_root)).id
    return PastCaseSearch(result, archives, open_id)


def searched_text(search: PastCaseSearch) -> str:
    """The query pane's "Searched" line for a search over past cases."""
    result = search.result
    cases = len(result.cases_searched or [])
    text = f"{cases} case{'s' if cases != 1 else ''} ({result.vectors_searched} images)"
    skipped = result.cases_skipped or []
    if skipped:
        text += f" · {len(skipped)} not searched: " + "; ".join(
            f"{Path(s['case']).name}: {s['reason']}" for s in skipped
        )
    return text


def library_folders() -> list[Path]:
    """The library folders the examiner added (remembered in the user's settings)."""
    value = QSettings().value(SETTINGS_KEY, [])
    if isinstance(value, str):  # QSettings gives a lone string for a one-item list
        value = [value]
    return [Path(v) for v in value or []]


def set_library_folders(folders: list[Path]) -> None:
    QSettings().setValue(SETTINGS_KEY, [str(f) for f in folders])
