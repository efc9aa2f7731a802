# SPDX-License-Identifier: Apache-2.0
"""The descriptor's learned parts: deterministic fits, shapes, normalisation, the bundled file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imgsim_desktop.core.model.descriptor import (
    INDEX_DIM,
    RERANK_DIM,
    Descriptor,
    bundled_descriptor,
    fit_projection,
    fit_whitening,
    load_descriptor,
    save_descriptor,
)


def _data(n: int = 400, dim: int = 32) -> np.ndarray:
    rng = np.random.default_rng(3)
    return (rng.standard_normal((n, dim)) * np.linspace(3, 0.1, dim)).astype(np.float32)


def test_fit_is_deterministic_and_projects_to_unit_vectors(tmp_path: Path) -> None:
    first, eigenvalues = fit_projection(_data(), 8, 0.25)
    again, _ = fit_projection(_data(), 8, 0.25)
    assert first.key == again.key
    assert np.all(np.diff(eigenvalues) <= 0)
    out = first.apply(_data()[:10])
    assert out.shape == (10, 8) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    whitening = fit_whitening(_data(), _data()[:200], _data()[200:], 16, 0.1)
    descriptor = Descriptor(whitening, first, 3)
    save_descriptor(descriptor, tmp_path / "d.npz")
    loaded = load_descriptor(tmp_path / "d.npz")
    assert loaded.name == descriptor.name and loaded.levels == 3
    assert loaded.projection.key == first.key and loaded.whitening.key == whitening.key


def test_projection_keeps_the_nearest_neighbour_on_low_rank_data() -> None:
    scales = np.r_[np.linspace(3, 1, 12), np.full(20, 0.02)]  # 12 strong axes, 20 weak
    data = (np.random.default_rng(4).standard_normal((400, 32)) * scales).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    projection, _ = fit_projection(data, 16, 0.0)
    reduced = projection.apply(data)
    agree = 0
    for row in range(50):
        a, b = data @ data[row], reduced @ reduced[row]
        a[row] = b[row] = -2
        agree += int(np.argmax(a) == np.argmax(b))
    assert agree >= 48


def test_learned_whitening_ignores_what_changes_between_matching_pairs() -> None:
    """Pairs differ along a strong "nuisance" axis; after the learned whitening that axis no
    longer separates a pair, while a plain PCA keeps it first."""
    rng = np.random.default_rng(5)
    content = rng.standard_normal((600, 8)) * np.linspace(2, 0.5, 8)
    nuisance = np.zeros((600, 8))
    nuisance[:, 0] = rng.standard_normal(600) * 6  # the strongest axis of the data
    first, second = content[:300] + nuisance[:300], content[:300] + nuisance[300:]
    whitening = fit_whitening(np.concatenate([first, second]), first, second, 4, 0.0)
    a, b = whitening.apply(first), whitening.apply(second)
    same = np.mean(np.sum(a * b, axis=1))
    assert same > 0.9  # a matching pair is (almost) the same vector after whitening
    pca, _ = fit_projection(np.concatenate([first, second]), 4, 0.0)
    assert np.mean(np.sum(pca.apply(first) * pca.apply(second), axis=1)) < 0.6


def test_bundled_descriptor_has_the_stored_dimensions() -> None:
    descriptor = bundled_descriptor()
    assert descriptor.whitening.matrix.shape == (1280, RERANK_DIM)
    assert descriptor.projection.matrix.shape == (RERANK_DIM, INDEX_DIM)
    assert descriptor.name.startswith(f"rmac{descriptor.levels}-lw{RERANK_DIM}-pca{INDEX_DIM}")
