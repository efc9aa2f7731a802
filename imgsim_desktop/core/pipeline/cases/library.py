# SPDX-License-Identifier: Apache-2.0
"""Search across cases: every case this user has indexed and every archived case of a library.

:func:`open_sources` gathers the cases to search (by default all of this user's cases; or the
named ones, by folder or id; plus every archive in each library folder), checks each archive
against its manifest first, and names every case it cannot search with the reason (a tampered or
damaged archive, a case indexed with another model). :func:`search_cases` embeds each query image
once and searches every source with it (:func:`..search.search`), so that the ranking over several
cases is the ranking one case holding them all would give. A case known both here and in a
library is searched once, from this user's data. Archives are only ever read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imgsim_desktop.core.errors import CatalogError, ImgsimError, RelinkError
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.cases.cluster import (
    ClusterError,
    ClusterOptions,
    connect,
    map_path,
)
from imgsim_desktop.core.pipeline.cases.merging import merge_results, verify_merged
from imgsim_desktop.core.pipeline.cases.worker_archives import archive_source, open_archive_source
from imgsim_desktop.core.pipeline.query import QueryImage, QuerySettings, embed_query
from imgsim_desktop.core.pipeline.results import QueryResult
from imgsim_desktop.core.pipeline.search import SearchSource, search
from imgsim_desktop.core.store.cases.archive import (
    THUMBS_FILE,
    check_archive,
    list_archives,
)
from imgsim_desktop.core.store.cases.registry import CATALOG_FILE, CaseInfo, find_case, known_cases
from imgsim_desktop.core.store.catalog import Catalog
from imgsim_desktop.core.store.index import SceneIndexes


@dataclass
class Sources:
    """The cases a search covers, and those it could not.

    Attributes:
        searched: the sources to search, each with its case id.
        skipped: ``{"case", "reason"}`` for each case left out.
        archives: archive folder by case id, for the cases searched from a library.
    """

    searched: list[SearchSource] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    archives: dict[str, Path] = field(default_factory=dict)

    def close(self) -> None:
        for source in self.searched:
            source.catalog.close()


def _live_source(info: CaseInfo, embedder: Embedder) -> SearchSource:
    identity = embedder.identity
    catalog = Catalog(info.data_dir / CATALOG_FILE)
    indexes = SceneIndexes(info.data_dir / "indexes", identity.key, identity.dim)
    return SearchSource(Path(info.root), catalog, indexes, case_id=info.id)


def _usable(source: SearchSource, embedder: Embedder, archived: bool) -> str | None:
    """Why the source cannot be searched with this embedder (None when it can)."""
    embedder_id = source.catalog.embedder_id(embedder.identity.key)
    if embedder_id is None or not source.catalog.scene_counts(embedder_id):
        if source.catalog.count():
            again = "archive it again from a case indexed now" if archived else "run imgsim index"
            return f"its images were embedded with another model ({again})"
        return "it holds no indexed image"
    return None


def open_sources(
    embedder: Embedder, cases: list[str] | None = None, libraries: list[Path] | None = None
) -> Sources:
    """The sources for a search: ``cases`` (folders or ids; every case of this user when None)
    and every archive of each library folder."""
    found = Sources()

    def add(source: SearchSource, label: str, archived: bool) -> None:
        why = _usable(source, embedder, archived)
        if why is None:
            found.searched.append(source)
        else:
            source.catalog.close()
            found.skipped.append({"case": label, "reason": why})

    infos: list[CaseInfo] = []
    if cases is None:
        infos = known_cases()
    else:
        for name in cases:
            try:
                infos.append(find_case(name))
            except RelinkError:
                found.skipped.append(
                    {"case": name, "reason": "no indexed case by that folder or id"}
                )
    for info in infos:
        try:
            add(_live_source(info, embedder), info.root, archived=False)
        except (CatalogError, sqlite3.Error) as exc:
            found.skipped.append({"case": info.root, "reason": f"its catalogue is unusable: {exc}"})
    seen = {info.id for info in infos}
    for library in libraries or []:
        if not library.is_dir():
            found.skipped.append({"case": str(library), "reason": "library folder not found"})
            continue
        for archive in list_archives(library):
            if archive.id in seen:
                continue  # searched from this user's data
            problem = check_archive(archive)
            if problem is not None:
                found.skipped.append(
                    {"case": str(archive.path), "reason": f"archive check failed: {problem}"}
                )
                continue
            try:
                source = open_archive_source(archive, embedder.identity.key, embedder.identity.dim)
                add(source, str(archive.path), archived=True)
            except (CatalogError, sqlite3.Error) as exc:
                found.skipped.append({"case": str(archive.path), "reason": str(exc)})
                continue
            seen.add(archive.id)
            found.archives[archive.id] = archive.path
    return found


def search_cases(
    images: list[Path],
    sources: Sources,
    embedder: Embedder,
    head: SceneHead,
    settings: QuerySettings,
    cluster: ClusterOptions | None = None,
) -> Iterator[QueryResult]:
    """One result per query image over every source (each image embedded once, here). With
    ``cluster``, the archived cases are searched on the cluster's workers (one task per archive;
    they read the library at its path, or under ``path_map``) and their best ``k`` merged with
    this user's cases searched here. Raises UnreadableImageError for an image that cannot be
    read (the ones before it were answered), ClusterError when the cluster cannot be used."""
    archived = [s for s in sources.searched if s.case_id in sources.archives]
    local = [s for s in sources.searched if s.case_id not in sources.archives]
    connection = connect(cluster) if cluster is not None and archived else None
    try:
        for image in images:
            query = embed_query(image, embedder, head, settings)
            if connection is None:
                result = search(query, sources.searched, head, settings)
            else:
                parts = [search(query, local, head, settings)] if local else []
                parts += _search_on_cluster(
                    connection[0], query, archived, sources, head, settings, cluster
                )
                result = merge_results(verify_merged(query, parts, sources.searched), settings)
            result.cases_searched = [s.case_id or "" for s in sources.searched]
            result.cases_skipped = list(sources.skipped)
            yield result
    finally:
        if connection is not None:
            connection[1]()


def search_archive(
    folder: str, query: QueryImage, head: SceneHead, settings: QuerySettings, dim: int
) -> QueryResult:
    """Runs on a cluster worker: the query over one archived case (read-only; the case kept
    open by the worker for the next query, see :mod:`.worker_archives`)."""
    with archive_source(Path(folder), query.embedder, dim) as source:
        return search(query, [source], head, dataclasses.replace(settings, hide_known=False))


def _search_on_cluster(
    client: Any,
    query: QueryImage,
    archived: list[SearchSource],
    sources: Sources,
    head: SceneHead,
    settings: QuerySettings,
    cluster: ClusterOptions | None,
) -> list[QueryResult]:
    path_map = cluster.path_map if cluster is not None else ()
    folders = [map_path(str(sources.archives[s.case_id or ""]), path_map) for s in archived]
    dim = int(query.vectors.shape[1])
    # The pixel verification needs the query's picture and is done here over the merged results
    # (verify_merged), as a search over all the cases in one process does it.
    sent = dataclasses.replace(query, picture=None)
    futures = [
        client.submit(search_archive, folder, sent, head, settings, dim, pure=False)
        for folder in folders
    ]
    try:
        return list(client.gather(futures))
    except Exception as exc:
        raise ClusterError(
            f"an archive search failed on the cluster ({type(exc).__name__}: {exc})"
        ) from exc


def archived_thumbnail(archive: Path, sha256: str) -> bytes | None:
    """The thumbnail an archive keeps for the file with this SHA-256 (None if none)."""
    with contextlib.suppress(sqlite3.Error, ImgsimError):
        uri = (archive / THUMBS_FILE).absolute().as_uri() + "?mode=ro&immutable=1"
        db = sqlite3.connect(uri, uri=True)
        try:
            row = db.execute("SELECT jpeg FROM thumbs WHERE sha256 = ?", (sha256,)).fetchone()
        finally:
            db.close()
        return None if row is None else bytes(row[0])
    return None
