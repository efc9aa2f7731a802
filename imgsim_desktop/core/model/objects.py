# SPDX-License-Identifier: Apache-2.0
"""Object labels: the backbone's own ImageNet-1k classifier, over the whole image and its parts.

EfficientNet-Lite0's ImageNet head is global average pooling of its 1280-channel feature map
followed by the linear ``classifier``. Applied to the whole map it names what dominates the
picture; applied to parts of the map (a 2x2 grid of overlapping quarters and the centre) it also
names what fills only a part of it, a bed in a bedroom or a monitor on an office desk. A label's
probability for the image is the geometric mean of its whole-image probability and its best
probability over the regions (the whole included, so never below the whole image's): a label a
region is sure of rises, but only as far as the whole picture supports it. On the 15-Scene
training photos, taking the regions' best alone let parts of landscapes pass for alps and
screens appear in every living room (README, Richer queries, has the figures). This costs a few
small matrix products on the feature map the descriptor is computed from anyway, no second
forward pass.

It is a 1000-class ImageNet *classifier*, not an object detector: it says which of its classes
a region looks like most, small objects (a syringe on a table) are missed, and many things an
examiner looks for are not among its classes at all.

What is stored per image (the catalogue's ``extras``, kind :data:`OBJECTS_KIND`): the
:data:`TOP_LABELS` most probable labels as uint16 indexes and float16 probabilities (200 bytes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

OBJECTS_KIND = "objects"
#: Labels kept per image, most probable first.
TOP_LABELS = 50
LABELS_RESOURCE = "imagenet_labels.json"


def region_slices(height: int, width: int) -> list[tuple[slice, slice]]:
    """The feature map's regions: the whole map, a 2x2 grid of overlapping quarters (each about
    0.6 of a side) and the centre (the middle half of each side)."""

    def halves(size: int) -> list[slice]:
        part = max(1, -(-size * 3 // 5))  # ceil(0.6 * size)
        return [slice(0, part), slice(size - part, size)]

    regions = [(slice(0, height), slice(0, width))]
    regions += [(rows, cols) for rows in halves(height) for cols in halves(width)]
    top, left = height // 4, width // 4
    regions.append(
        (slice(top, max(top + 1, height - top)), slice(left, max(left + 1, width - left)))
    )
    return regions


def object_probabilities(features: torch.Tensor, classifier: Any) -> np.ndarray:
    """(n, classes) float32: each class's probability for each image (the geometric mean of the
    whole map's softmax probability and the best over its regions) from the feature maps
    ``features`` (n, channels, h, w); ``classifier`` is the network's linear ImageNet head."""
    import torch

    height, width = int(features.shape[2]), int(features.shape[3])
    pooled = [
        features[:, :, rows, cols].mean(dim=(2, 3)) for rows, cols in region_slices(height, width)
    ]
    probabilities = torch.softmax(classifier(torch.stack(pooled, dim=1)), dim=2)  # (n, r, c)
    return (probabilities[:, 0] * probabilities.amax(dim=1)).sqrt().detach().float().numpy()


def encode(probabilities: np.ndarray, top: int = TOP_LABELS) -> bytes:
    """The ``top`` most probable labels of one image: uint16 indexes then float16 probabilities."""
    order = np.argsort(-probabilities, kind="stable")[:top]
    return order.astype("<u2").tobytes() + probabilities[order].astype("<f2").tobytes()


def decode(data: bytes) -> dict[int, float]:
    """Label index -> probability, from :func:`encode`'s bytes."""
    count = len(data) // 4
    labels = np.frombuffer(data[: 2 * count], dtype="<u2")
    probabilities = np.frombuffer(data[2 * count : 4 * count], dtype="<f2")
    return {int(label): float(p) for label, p in zip(labels, probabilities, strict=True)}


@dataclass(frozen=True)
class LabelNames:
    """The classifier's class names, in its order (each a comma-separated list of lemmas)."""

    names: tuple[str, ...]

    def short(self, index: int) -> str:
        """The label's first lemma ("seashore" for "seashore, coast, seacoast, sea-coast")."""
        return self.names[index].split(",")[0].strip()

    def lemmas(self, index: int) -> list[str]:
        return [lemma.strip().casefold() for lemma in self.names[index].split(",")]


@cache
def imagenet_labels() -> LabelNames:
    """The 1000 ImageNet-1k class names shipped in ``imgsim_desktop/resources``."""
    text = (resources.files("imgsim_desktop.resources") / LABELS_RESOURCE).read_text("utf-8")
    return LabelNames(tuple(json.loads(text)["labels"]))
