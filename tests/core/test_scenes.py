# SPDX-License-Identifier: Apache-2.0
"""Scene head and the choice of scenes a query searches."""

from __future__ import annotations

import numpy as np

from imgsim_desktop.core.model.descriptor import INDEX_DIM
from imgsim_desktop.core.model.scenes import OTHER, bundled_head, load_head, scenes_to_search
from tests.core.fakes import fake_head


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


def test_bundled_head_is_the_15_scenes() -> None:
    head = bundled_head()
    assert len(head.labels) == 15 and "coast" in head.labels and "tallbuilding" in head.labels
    assert head.weights.shape == (15, INDEX_DIM)  # trained on the stored (projected) vectors
    assert head.test_accuracy >= 0.90
    probs = head.probabilities(
        np.random.default_rng(0).normal(size=(4, INDEX_DIM)).astype(np.float32)
    )
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
