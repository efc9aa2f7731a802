# SPDX-License-Identifier: Apache-2.0
"""What the window's current query is made of: its images and the region of the first one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from imgsim_desktop.core.pipeline.richer.combine import Combine
from imgsim_desktop.core.pipeline.richer.composite import QuerySpec
from imgsim_desktop.core.pipeline.richer.region import Region


@dataclass(frozen=True)
class QueryState:
    """The query images (the first is the one shown) and the region drawn on the first."""

    images: list[Path] = field(default_factory=list)
    region: Region | None = None

    def spec(self, combine: Combine) -> QuerySpec | None:
        """The core's query for this state; None for one whole image (the plain query)."""
        if len(self.images) == 1 and self.region is None:
            return None
        return QuerySpec(
            tuple(str(p) for p in self.images),
            region=self.region,
            combine=combine if len(self.images) > 1 else None,
        )
