# SPDX-License-Identifier: Apache-2.0
"""Test doubles for the core: an embedder without torch and a small scene head."""

from __future__ import annotations

import numpy as np
from PIL import Image

from imgsim_desktop.core.model.embedder import Descriptions, EmbedderIdentity
from imgsim_desktop.core.model.scenes import SceneHead

DIM = 48


class FakeEmbedder:
    """Vectors from a ``side`` x ``side`` colour thumbnail: similar pictures get similar vectors.
    Counts calls. Another ``key_suffix`` or ``side`` is another embedder (``side`` changes the
    vectors' dimension)."""

    def __init__(self, key_suffix: str = "", side: int = 4) -> None:
        dim = side * side * 3
        self.identity = EmbedderIdentity("fake" + key_suffix, "0" * 64, dim, 64, f"thumb{side}")
        self.side = side
        self.embedded = 0

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        self.embedded += len(images)
        out = []
        for pixels in images:
            small = np.asarray(
                Image.fromarray(pixels).resize((self.side, self.side), Image.Resampling.BOX),
                dtype=np.float32,
            )
            vector = small.reshape(-1) - 127.5
            out.append(vector / (np.linalg.norm(vector) or 1.0))
        return np.stack(out).astype(np.float32)

    def describe(self, images: list[np.ndarray]) -> Descriptions:
        return Descriptions(self.embed(images))

    def project(self, rerank: np.ndarray) -> np.ndarray:
        raise AssertionError("a fake embedder makes no re-ranking vectors")

    def describe_windows(self, image: np.ndarray, windows: tuple) -> Descriptions:
        """The image and its windows, cropped out of the pixels."""
        height, width = image.shape[:2]
        crops = [
            np.ascontiguousarray(
                image[round(t * height) : round(b * height), round(left * width) : round(r * width)]
            )
            for t, b, left, r in windows
        ]
        return self.describe([image, *crops])


def fake_head(threshold: float = 0.5, dim: int = DIM) -> SceneHead:
    """Three scenes: "red", "green", "blue" by which channel dominates the thumbnail."""
    weights = np.zeros((3, dim), dtype=np.float32)
    for channel in range(3):
        weights[channel, channel::3] = 8.0
    return SceneHead(
        ("red", "green", "blue"), weights, np.zeros(3, np.float32), threshold, "fake", 1.0
    )
