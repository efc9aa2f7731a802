# SPDX-License-Identifier: Apache-2.0
"""Object labels at index time: asked of the embedder with the vectors, stored as extras.

An embedder that can label objects from the forward pass it describes images with (the bundled
one: ``describe_with_objects``, see :mod:`imgsim_desktop.core.model.objects`) gives each indexed
image its top ImageNet labels, stored in the catalogue's extras (kind ``objects``); one that
cannot (a test double, a future backbone without an ImageNet head) gives none, and word searches
then say how many images carry no labels instead of ranking them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from imgsim_desktop.core.model.embedder import Descriptions, Embedder
from imgsim_desktop.core.model.objects import OBJECTS_KIND, encode


def describe_and_label(
    pixels: list[np.ndarray], embedder: Embedder
) -> tuple[Descriptions, list[bytes]]:
    """The embedder's descriptions of ``pixels`` and, when it labels objects, each image's
    encoded labels (else an empty list)."""
    labelled = getattr(embedder, "describe_with_objects", None)
    if labelled is None:
        return embedder.describe(pixels), []
    described, probabilities = labelled(pixels)
    if probabilities is None:  # a wrapper over an embedder that cannot label
        return described, []
    return described, [encode(row) for row in probabilities]


def with_extras(loaded: Any, objects: bytes) -> Any:
    """``loaded`` (an analysis :class:`~.analysis.Loaded`) with its object labels added."""
    return dataclasses.replace(loaded, extras={**loaded.extras, OBJECTS_KIND: objects})
