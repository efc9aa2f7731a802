# SPDX-License-Identifier: Apache-2.0
"""Saved searches of one case: a query kept under a name, to be run again after re-indexing.

A saved search is plain data (what the examiner asked, never its results): for an image search
the query images, the region, the combine mode and the example images
(:class:`~imgsim_desktop.core.pipeline.richer.composite.QuerySpec` as JSON); for a word search the word
and the scenes it was limited to; and the options (``k``, ``all_scenes``, ``hide_known``, ...).
They are kept in ``searches.json`` in the case's data folder (never in the case folder), replaced
atomically under ``searches.lock`` so the GUI and the CLI never lose each other's changes.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from imgsim_desktop.core.errors import QueryError, StorageError
from imgsim_desktop.core.store.locking import FileLock

SEARCHES_FILE = "searches.json"
SEARCHES_LOCK = "searches.lock"
#: A search's name: 1-64 letters, digits, spaces, ``.``, ``_``, ``-``.
NAME_PATTERN = re.compile(r"^[\w.\- ]{1,64}$")


class SearchKind(str, Enum):
    """What a saved search searches by."""

    IMAGES = "images"
    WORD = "word"


@dataclass(frozen=True)
class SavedSearch:
    """One saved search.

    Attributes:
        name: its name (unique in the case).
        kind: images or word.
        query: the query as JSON (a QuerySpec's, or ``{"word", "scenes"}``).
        options: k, all_scenes, hide_known, ... as given.
        saved_utc: when it was saved (ISO 8601, UTC).
    """

    name: str
    kind: SearchKind
    query: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    saved_utc: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "query": self.query,
            "options": self.options,
            "saved_utc": self.saved_utc,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SavedSearch:
        return cls(
            data["name"],
            SearchKind(data["kind"]),
            dict(data.get("query") or {}),
            dict(data.get("options") or {}),
            data.get("saved_utc", ""),
        )


class SavedSearches:
    """The saved searches of the case whose data folder is ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / SEARCHES_FILE
        self._lock = FileLock(data_dir / SEARCHES_LOCK)

    def list(self) -> list[SavedSearch]:
        """Every saved search, by name."""
        return sorted(self._read().values(), key=lambda s: s.name.casefold())

    def get(self, name: str) -> SavedSearch:
        """The search called ``name``; raises :class:`QueryError` naming the ones there are."""
        found = self._read().get(name)
        if found is None:
            names = ", ".join(s.name for s in self.list()) or "none"
            raise QueryError(f"no saved search called {name!r} in this case (saved: {names})")
        return found

    def save(self, search: SavedSearch) -> SavedSearch:
        """Keep ``search`` (replacing one of the same name); returns it with its time."""
        if not NAME_PATTERN.match(search.name):
            raise QueryError(
                f"a search's name is 1-64 letters, digits, spaces, '.', '_' or '-': {search.name!r}"
            )
        stamped = SavedSearch(
            search.name,
            search.kind,
            search.query,
            search.options,
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        with self._locked():
            searches = self._read()
            searches[stamped.name] = stamped
            self._write(searches)
        return stamped

    def remove(self, name: str) -> None:
        """Forget the search called ``name`` (raises :class:`QueryError` when there is none)."""
        with self._locked():
            searches = self._read()
            if name not in searches:
                raise QueryError(f"no saved search called {name!r} in this case")
            del searches[name]
            self._write(searches)

    def _locked(self) -> _Held:
        return _Held(self._lock)

    def _read(self) -> dict[str, SavedSearch]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot read the saved searches {self.path}: {exc}") from exc
        return {item["name"]: SavedSearch.from_json(item) for item in data.get("searches", [])}

    def _write(self, searches: dict[str, SavedSearch]) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            payload = {"searches": [s.to_json() for s in searches.values()]}
            tmp.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            raise StorageError(f"cannot save the searches in {self.path}: {exc}") from exc


class _Held:
    """The searches' lock held for one read-modify-write."""

    def __init__(self, lock: FileLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        if not self._lock.acquire(wait=10.0):
            raise StorageError(f"the saved searches are locked by process {self._lock.holder()}")

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
