# SPDX-License-Identifier: Apache-2.0
"""Known files in listings: which of the user's hash sets holds each catalogued file.

The catalogue keeps each file's SHA-256, MD5 and SHA-1 (computed while its bytes were read for
indexing), so checking a file is a few indexed lookups in the user's hash sets
(:class:`~imgsim_desktop.core.store.known.hashsets.KnownFiles`), batched over all the files at hand.
Query results are marked the same way by :func:`.search.search`, which also leaves known files
out on request.
"""

from __future__ import annotations

from collections.abc import Sequence

from imgsim_desktop.core.store.known.hashsets import KnownFiles
from imgsim_desktop.core.store.records import FileRecord


def known_for_records(records: Sequence[FileRecord]) -> dict[int, str]:
    """Catalogue id -> names of the hash sets that know the file, for the known ones only."""
    with KnownFiles.open() as known:
        if not known.sets:
            return {}
        answers = known.match_many([(r.md5, r.sha1, r.sha256) for r in records])
    return {r.id: name for r, name in zip(records, answers, strict=True) if name}
