# SPDX-License-Identifier: Apache-2.0
"""Scene head and the choice of scenes a query searches."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.core.model.descriptor import INDEX_DIM
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
from imgsim_desktop.core.model.layout import LAYOUT_DIM
from imgsim_desktop.core.model.scenes import (
    LAYOUT_INPUT,
    OTHER,
    bundled_head,
    load_head,
    scenes_to_search,
)
from tests.core.fakes import DIM, fake_head


def test_scenes_until_coverage_then_other() -> None:
    head = fake_head()
    assert scenes_to_search(head, np.array([0.7, 0.25, 0.05]), 0.9) == ["red", "green", OTHER]
    assert scenes_to_search(head, np.array([0.95, 0.04, 0.01]), 0.9) == ["red", OTHER]
    assert scenes_to_search(head, np.array([0.4, 0.3, 0.3]), 1.0) == ["red", "green", "blue", OTHER]


def test_unsure_images_are_labelled_other() -> None:
    head = fake_head(threshold=0.6)
    assert head.label(np.array([0.5, 0.3, 0.2])) == (OTHER, 0.5)
    assert head.label(np.array([0.1, 0.8, 0.1]))[0] == "green"


def test_head_round_trips_through_a_file(tmp_path) -> None:
    head = fake_head()
    head.save(tmp_path / "head.npz")
    again = load_head(tmp_path / "head.npz")
    assert again.labels == head.labels and again.key == head.key
    np.testing.assert_array_equal(again.weights, head.weights)


def test_bundled_head_is_the_15_scenes_read_from_the_layout() -> None:
    head = bundled_head()
    assert len(head.labels) == 15 and "coast" in head.labels and "tallbuilding" in head.labels
    assert head.input == LAYOUT_INPUT and not head.reads_stored_vectors
    assert head.weights.shape == (15, LAYOUT_DIM)
    assert head.test_accuracy >= 0.92  # the target, measured when it was trained
    layout = np.random.default_rng(0).normal(size=(4, LAYOUT_DIM)).astype(np.float32)
    probs = head.probabilities(head.scene_input(np.zeros((4, INDEX_DIM), np.float32), layout))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ModelError, match="layout"):
        head.scene_input(np.zeros((4, INDEX_DIM), np.float32), None)


def test_the_head_is_part_of_the_embedder_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    from imgsim_desktop.core.model import embedder as embedder_module

    key = EfficientNetLiteEmbedder().identity.key
    assert key.endswith(f"+scenes-{bundled_head().key[:8]}")
    monkeypatch.setattr(embedder_module, "scenes_tag", lambda: "scenes-00000000")
    assert EfficientNetLiteEmbedder().identity.key != key  # a new head: every case re-embedded


def test_a_head_of_either_input_round_trips(tmp_path) -> None:
    head = dataclasses.replace(fake_head(), input=LAYOUT_INPUT)
    head.save(tmp_path / "head.npz")
    again = load_head(tmp_path / "head.npz")
    assert again.input == LAYOUT_INPUT and again.key == head.key != fake_head().key
    index = np.eye(3, DIM, dtype=np.float32)
    assert fake_head().scene_input(index, None) is index
