# SPDX-License-Identifier: Apache-2.0
"""The bundled model: weights mapped in order, a known image gets its known class, no network."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.descriptor import INDEX_DIM, RERANK_DIM, bundled_descriptor
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
from imgsim_desktop.core.pipeline.query import WINDOWS
from tests.conftest import FIXTURES, ROOT, shared_data

pytestmark = pytest.mark.model

ALP = 970  # ImageNet-1k class "alp"


@pytest.fixture(scope="module")
def embedder() -> EfficientNetLiteEmbedder:
    return EfficientNetLiteEmbedder()


def test_a_mountain_photo_is_an_alp(embedder: EfficientNetLiteEmbedder) -> None:
    image = shared_data("seed_samples") / "mountain-A.jpg"
    pixels = load_for_embedding(image, 224).pixels
    logits = embedder.imagenet_logits([pixels])[0]
    assert int(np.argmax(logits)) == ALP


def test_vectors_are_unit_length_and_deterministic(embedder: EfficientNetLiteEmbedder) -> None:
    pixels = [load_for_embedding(p, 224).pixels for p in sorted((FIXTURES / "case").glob("*.jpg"))]
    first = embedder.embed(pixels)
    assert first.shape == (len(pixels), INDEX_DIM) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    one_by_one = np.concatenate([embedder.embed([p]) for p in pixels])
    np.testing.assert_allclose(first, one_by_one, atol=1e-5)


def test_identity_names_model_and_weights_hash(embedder: EfficientNetLiteEmbedder) -> None:
    identity = embedder.identity
    assert identity.model == "tf_efficientnet_lite0"
    assert len(identity.weights_sha256) == 64
    assert identity.weights_sha256 in identity.key or identity.weights_sha256[:16] in identity.key
    assert bundled_descriptor().name in identity.key  # a new descriptor re-embeds old cases


def test_descriptions_and_the_windows_of_one_forward_pass(
    embedder: EfficientNetLiteEmbedder,
) -> None:
    paths = sorted((FIXTURES / "case").glob("*.jpg"))
    pixels = [load_for_embedding(p, 224).pixels for p in paths]
    described = embedder.describe(pixels)
    assert described.rerank is not None and described.rerank.shape == (len(paths), RERANK_DIM)
    np.testing.assert_allclose(np.linalg.norm(described.rerank, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(described.index, embedder.project(described.rerank), atol=1e-5)
    names = [p.stem for p in paths]
    for pair in (("scene2_a", "scene2_b"), ("scene4_a", "scene4_b")):  # near-copies stay nearest
        row, other = names.index(pair[0]), names.index(pair[1])
        for vectors in (described.index, described.rerank):
            scores = vectors @ vectors[row]
            scores[row] = -2
            assert int(np.argmax(scores)) == other
    windows = embedder.describe_windows(pixels[0], WINDOWS)
    assert windows.rerank is not None and windows.rerank.shape == (10, RERANK_DIM)
    np.testing.assert_allclose(windows.rerank[0], described.rerank[0], atol=1e-5)
    crop = pixels[0][: round(pixels[0].shape[0] * 0.7), : round(pixels[0].shape[1] * 0.7)]
    cropped = embedder.describe([np.ascontiguousarray(crop)]).rerank
    assert cropped is not None
    # The top-left window stands for the top-left crop: not the whole image's vector, and close
    # to the crop's own (cut from the feature map, so not equal: the cells at its edge saw more).
    assert float(windows.rerank[1] @ windows.rerank[0]) < 0.99
    assert float(windows.rerank[1] @ cropped[0]) > 0.8


NO_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import numpy as np
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
from imgsim_desktop.core.pipeline.query import WINDOWS
from imgsim_desktop.core.evidence.imagefile import load_for_embedding
embedder = EfficientNetLiteEmbedder()
vector = embedder.embed([load_for_embedding({image!r}, 224).pixels])
assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
print("offline ok")
"""


def test_model_loads_and_embeds_with_sockets_blocked() -> None:
    code = NO_NETWORK.format(image=str(FIXTURES / "case" / "scene0_a.jpg"))
    env = {"HF_HUB_OFFLINE": "0", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "offline ok" in done.stdout
