# SPDX-License-Identifier: Apache-2.0
"""The query side: its settings, and the query image read, hashed and embedded once.

A query image is embedded once whatever is searched (one case, or every case of a library): its
views (upright and, by default, its quarter turns, so photos whose orientation was lost are still
found; optionally their mirror images too) and the scene probabilities that choose which per-scene
indexes to visit. The upright view is also described at a larger scale (:data:`LARGER_SIDE`) and
its two scales summed: the query's details then count as much as its layout (README, Quality).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgsim_desktop.core.errors import UnreadableImageError
from imgsim_desktop.core.evidence.imagefile import LoadedImage, load_for_embedding
from imgsim_desktop.core.model.embedder import Descriptions, Embedder, Window
from imgsim_desktop.core.model.pdq import MIN_QUALITY, NEAR_COPY_DISTANCE, pdq_dihedral
from imgsim_desktop.core.model.scenes import DEFAULT_COVERAGE, SceneHead, scenes_to_search
from imgsim_desktop.core.pipeline.richer.region import Region, load_region

#: Quarter turns tried for the query: photos whose orientation was lost are still found.
QUERY_ROTATIONS = (0, 1, 2, 3)
#: The upright query's second scale (shorter side in pixels).
LARGER_SIDE = 320
#: Windows of the query searched as crops of it: 70% of each side at 3 x 3 positions (a crop of
#: half the picture's area is within a cell or so of one of them).
WINDOWS: tuple[Window, ...] = tuple(
    (top, top + 0.7, left, left + 0.7) for top in (0.0, 0.15, 0.3) for left in (0.0, 0.15, 0.3)
)


@dataclass(frozen=True)
class QuerySettings:
    """Everything that shapes a query's ranking besides the images (recorded with the result)."""

    k: int = 20
    all_scenes: bool = False
    coverage: float = DEFAULT_COVERAGE
    rotations: bool = True
    #: Also the mirror image of every view (the 8 dihedral views with ``rotations``).
    flips: bool = False
    #: The upright view described at two scales (224 and :data:`LARGER_SIDE`).
    scales: bool = True
    #: Also windows of the upright view (:data:`WINDOWS`), as crops of it. Off by default: with
    #: the pixel verification the copy bench finds as many crops without them, and Holidays
    #: loses 0.0065 mAP with them (README, Quality).
    windows: bool = False
    #: Verify the best candidates by pixels (copies and crops the vectors rank too low).
    verify_copies: bool = True
    #: Leave out the files a known-file hash set holds (see :mod:`.known`).
    hide_known: bool = False
    #: PDQ distance at or under which a result is a near copy (see :mod:`.ranking`).
    near_copy_threshold: int = NEAR_COPY_DISTANCE
    #: The rectangle of the query image searched (x, y, w, h, upright pixels), None for all of it
    #: (see :mod:`.richer.region`).
    region: tuple[int, int, int, int] | None = None
    #: How several query images make one ranking, ``all`` or ``any`` (see :mod:`.richer.combine`).
    combine: str | None = None
    #: Negative and further positive examples (image paths) of relevance feedback
    #: (see :mod:`.richer.feedback`).
    negatives: tuple[str, ...] = ()
    positives: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryImage:
    """A query image, embedded.

    Attributes:
        path: the image file as given.
        sha256: SHA-256 of its bytes.
        vectors: one index vector per view (upright first).
        rerank: one re-ranking vector per view, in the same order (None when the embedder
            makes none).
        picture: the upright picture the candidates' thumbnails are correlated with (None when
            copies are not verified).
        probabilities: the scene head's probabilities for the upright view.
        scene: the most likely scene (``other`` when unsure) and its probability.
        embedder: the identity key of the embedder that made the vectors.
        pdq: the PDQ hashes of its 8 dihedral variants (empty when its quality is too low).
    """

    path: str
    sha256: str
    vectors: np.ndarray
    probabilities: np.ndarray
    scene: str
    confidence: float
    embedder: str
    pdq: tuple[bytes, ...] = ()
    rerank: np.ndarray | None = None
    picture: np.ndarray | None = None

    def scenes(self, head: SceneHead, settings: QuerySettings) -> list[str]:
        """The scene indexes to visit (the upright view decides: a turned view's scene guess is
        unreliable)."""
        if settings.all_scenes:
            return list(head.all_labels)
        chosen = set(scenes_to_search(head, self.probabilities, settings.coverage))
        return [s for s in head.all_labels if s in chosen]


def query_views(pixels: np.ndarray, settings: QuerySettings) -> list[np.ndarray]:
    """The query's views: upright first, then each further quarter turn when asked, then the
    mirror images of those when asked."""
    turns = QUERY_ROTATIONS if settings.rotations else (0,)
    views = [np.rot90(pixels, t) for t in turns]
    if settings.flips:
        views += [np.fliplr(view) for view in views]
    return [np.ascontiguousarray(view) for view in views]


def preview_settings(settings: QuerySettings) -> QuerySettings:
    """The settings of a query's quick first answer, which a window shows while the full query
    runs: the upright view at one scale, no pixel check (one forward pass instead of five).
    PDQ's near copies are found as in the full query."""
    return dataclasses.replace(
        settings, rotations=False, flips=False, scales=False, windows=False, verify_copies=False
    )


def _joined(first: Descriptions, rest: Descriptions) -> Descriptions:
    rerank = layout = None
    if first.rerank is not None and rest.rerank is not None:
        rerank = np.concatenate([first.rerank, rest.rerank])
    if first.layout is not None and rest.layout is not None:
        layout = np.concatenate([first.layout, rest.layout])
    return Descriptions(np.concatenate([first.index, rest.index]), rerank, layout)


def describe_query(
    pixels: np.ndarray,
    larger: np.ndarray | None,
    embedder: Embedder,
    settings: QuerySettings,
    upright: Descriptions | None = None,
) -> Descriptions:
    """Index and re-ranking vectors of the query's views (:func:`query_views`); with a
    larger-scale picture, the upright view's vectors are those of its two scales summed; with
    ``settings.windows``, the windows of the upright view (at the larger scale when there is one)
    follow as further views. ``upright``: the upright view's own description, when a preview
    made it already (only the other views are described then)."""
    views = query_views(pixels, settings)
    if upright is None:
        described = embedder.describe(views)
    else:
        described = _joined(upright, embedder.describe(views[1:])) if len(views) > 1 else upright
    if described.rerank is None or (larger is None and not settings.windows):
        return described
    index, rerank = described.index, described.rerank.copy()
    upright_pixels = larger if larger is not None else pixels
    if settings.windows:
        second = embedder.describe_windows(upright_pixels, WINDOWS)
    else:
        second = embedder.describe([upright_pixels])
    assert second.rerank is not None
    if larger is not None:
        both = rerank[0] + second.rerank[0]
        rerank[0] = both / max(float(np.linalg.norm(both)), 1e-12)
        index = np.concatenate([embedder.project(rerank[:1]), index[1:]])
    if settings.windows:
        index = np.concatenate([index, second.index[1:]])
        rerank = np.concatenate([rerank, second.rerank[1:]])
    return Descriptions(index, rerank, described.layout)  # the layout of the views


def _load_query(
    image_path: Path, embedder: Embedder, settings: QuerySettings, region: Region | None
) -> LoadedImage:
    side = embedder.identity.shorter_side
    larger = LARGER_SIDE if settings.scales and side < LARGER_SIDE else None
    try:
        if region is not None:
            return load_region(image_path, region, side, larger)
        return load_for_embedding(image_path, side, larger)
    except UnreadableImageError as exc:
        raise UnreadableImageError(f"query image {image_path}: {exc}") from exc


def _query_image(
    image_path: Path,
    loaded: LoadedImage,
    described: Descriptions,
    hashes: tuple[bytes, ...],
    embedder: Embedder,
    head: SceneHead,
    settings: QuerySettings,
) -> QueryImage:
    layout = None if described.layout is None else described.layout[:1]
    probabilities = head.probabilities(head.scene_input(described.index[:1], layout))[0]
    scene, confidence = head.label(probabilities)
    return QueryImage(
        str(image_path),
        loaded.sha256,
        described.index,
        probabilities,
        scene,
        confidence,
        embedder.identity.key,
        hashes,
        described.rerank,
        loaded.hash_pixels if settings.verify_copies else None,
    )


def _usable_hashes(loaded: LoadedImage) -> tuple[bytes, ...]:
    hashes, quality = pdq_dihedral(loaded.hash_pixels)
    return tuple(hashes) if quality >= MIN_QUALITY else ()


def embed_query(
    image_path: Path,
    embedder: Embedder,
    head: SceneHead,
    settings: QuerySettings,
    region: Region | None = None,
) -> QueryImage:
    """Read and embed the query image (only ``region`` of it when given); raises
    UnreadableImageError naming it, QueryError for a region outside it."""
    loaded = _load_query(image_path, embedder, settings, region)
    described = describe_query(loaded.pixels, loaded.larger, embedder, settings)
    return _query_image(
        image_path, loaded, described, _usable_hashes(loaded), embedder, head, settings
    )


def embed_query_with_preview(
    image_path: Path, embedder: Embedder, head: SceneHead, settings: QuerySettings
) -> tuple[QueryImage, Callable[[], QueryImage]]:
    """The query image embedded for its preview (:func:`preview_settings`), and the function
    that completes it into the full query's: the file is read, decoded and hashed once, and the
    upright view's forward pass serves both, so a preview costs its search alone."""
    loaded = _load_query(image_path, embedder, settings, None)
    quick_settings = preview_settings(settings)
    upright = embedder.describe(query_views(loaded.pixels, quick_settings))
    hashes = _usable_hashes(loaded)
    quick = _query_image(image_path, loaded, upright, hashes, embedder, head, quick_settings)

    def complete() -> QueryImage:
        described = describe_query(loaded.pixels, loaded.larger, embedder, settings, upright)
        return _query_image(image_path, loaded, described, hashes, embedder, head, settings)

    return quick, complete
