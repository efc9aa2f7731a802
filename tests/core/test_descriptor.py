# SPDX-License-Identifier: Apache-2.0
"""The descriptor projection: deterministic fit, shape, normalisation, and the bundled file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imgsim_desktop.core.model.descriptor import (
    INDEX_DIM,
    bundled_projection,
    fit_projection,
    load_projection,
    save_projection,
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
    save_projection(first, tmp_path / "p.npz")
    assert load_projection(tmp_path / "p.npz").key == first.key


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


def test_bundled_projection_matches_the_index_dimension() -> None:
    projection = bundled_projection()
    assert projection.matrix.shape == (1280, INDEX_DIM)
    assert projection.name.startswith(f"pca{INDEX_DIM}")
