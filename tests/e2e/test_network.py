# SPDX-License-Identifier: Apache-2.0
"""The plain-PyTorch EfficientNet-Lite0 computes what timm's ``tf_efficientnet_lite0`` computes.

Both networks get the packaged weights (timm's filled in order, as the embedder did before it
stopped importing timm); features and logits are compared on random inputs of even and odd sizes
(the TF "SAME" padding of the stride-2 convolutions depends on them) and on real images. A last
test checks that the comparison notices a padding that is only slightly wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model import efficientnet_lite
from imgsim_desktop.core.model.embedder import (
    TIMM_ARCHITECTURE,
    EfficientNetLiteEmbedder,
    build_model,
    weights_path,
)
from tests.conftest import FIXTURES

pytestmark = pytest.mark.model

timm = pytest.importorskip("timm")
torch = pytest.importorskip("torch")

TOLERANCE = 1e-4
#: (height, width): square, both orientations of a 4:3 photo, odd sizes, and a tiny input.
SHAPES = [(224, 224), (224, 298), (298, 224), (225, 301), (301, 225), (97, 131), (33, 33)]
REAL_IMAGES = ["scene0_a.jpg", "scene3_a.jpg"]


@pytest.fixture(scope="module")
def reference() -> Any:
    """timm's network, filled from the packaged file tensor by tensor in order."""
    model = timm.create_model(TIMM_ARCHITECTURE, pretrained=False)
    source = torch.load(weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(dict(zip(model.state_dict().keys(), source.values(), strict=True)))
    return model.eval()


@pytest.fixture(scope="module")
def ours() -> Any:
    return build_model(weights_path())


def differences(a: Any, b: Any, batch: Any) -> tuple[float, float]:
    """Max abs difference of (features, logits) of two networks on one batch."""
    with torch.inference_mode():
        features = (a.forward_features(batch) - b.forward_features(batch)).abs().max().item()
        logits = (a(batch) - b(batch)).abs().max().item()
    return features, logits


def test_same_parameter_names_and_shapes_as_timm(reference: Any, ours: Any) -> None:
    theirs = {name: tuple(t.shape) for name, t in reference.state_dict().items()}
    mine = {name: tuple(t.shape) for name, t in ours.state_dict().items()}
    assert list(mine.items()) == list(theirs.items())
    norms = [m for m in ours.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    timm_norms = [m for m in reference.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(norms) == len(timm_norms) == 49
    assert {(m.eps, m.momentum) for m in norms} == {(m.eps, m.momentum) for m in timm_norms}


@pytest.mark.parametrize(("height", "width"), SHAPES)
def test_random_inputs_match_timm(reference: Any, ours: Any, height: int, width: int) -> None:
    generator = torch.Generator().manual_seed(height * 1000 + width)
    batch = torch.rand(2, 3, height, width, generator=generator) * 2 - 1
    features, logits = differences(reference, ours, batch)
    print(f"{height}x{width}: features {features:.3g}, logits {logits:.3g}")
    assert features <= TOLERANCE and logits <= TOLERANCE


@pytest.mark.parametrize("name", REAL_IMAGES)
def test_real_images_match_timm(reference: Any, ours: Any, name: str) -> None:
    pixels = load_for_embedding(FIXTURES / "case" / name, 224).pixels
    batch = EfficientNetLiteEmbedder()._to_tensor([pixels])
    features, logits = differences(reference, ours, batch)
    print(f"{name} {tuple(batch.shape)}: features {features:.3g}, logits {logits:.3g}")
    assert features <= TOLERANCE and logits <= TOLERANCE
    with torch.inference_mode():
        assert int(reference(batch).argmax()) == int(ours(batch).argmax())


def test_the_comparison_notices_a_wrong_padding(
    reference: Any, ours: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The odd pixel of "SAME" padding put before instead of after: the test above must fail."""

    def wrong(size: int, kernel: int, stride: int) -> tuple[int, int]:
        before, after = efficientnet_lite_same_padding(size, kernel, stride)
        return after, before

    efficientnet_lite_same_padding = efficientnet_lite.same_padding
    monkeypatch.setattr(efficientnet_lite, "same_padding", wrong)
    batch = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(1)) * 2 - 1
    features, logits = differences(reference, ours, batch)
    assert features > 100 * TOLERANCE and logits > 100 * TOLERANCE


def test_embedder_vectors_equal_timm_vectors(reference: Any) -> None:
    """The GeM vectors the catalogue is built from are unchanged (same identity, same values)."""
    pixels = [load_for_embedding(FIXTURES / "case" / n, 224).pixels for n in REAL_IMAGES]
    embedder = EfficientNetLiteEmbedder(project=False)
    ours = embedder.embed(pixels)
    embedder._model = reference
    theirs = embedder.embed(pixels)
    assert np.abs(ours - theirs).max() <= 1e-5


@pytest.mark.parametrize(
    ("damage", "message"),
    [("one tensor fewer", "the model expects"), ("a tensor transposed", "does not fit")],
)
def test_a_weights_file_that_does_not_fit_is_refused(
    tmp_path: Any, damage: str, message: str
) -> None:
    source = torch.load(weights_path(), map_location="cpu", weights_only=True)
    names = list(source)
    if damage == "one tensor fewer":
        del source[names[-1]]
    else:
        source[names[-2]] = source[names[-2]].t()  # the classifier's (1000, 1280) weight
    path = tmp_path / "weights.pth"
    torch.save(source, path)
    with pytest.raises(ModelError, match=message):
        build_model(path)
