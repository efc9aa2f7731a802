# SPDX-License-Identifier: Apache-2.0
"""Regional pooling: the R-MAC grid and the batched GeM of its regions."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from imgsim_desktop.core.model.regions import regional_gem, rmac_regions  # noqa: E402


def test_regions_cover_the_map_at_each_scale_inside_its_bounds() -> None:
    regions = rmac_regions(7, 10, 3)
    assert regions[0] == (0, 7, 0, 10)  # the whole map first
    assert len(set(regions)) == len(regions)
    for y0, y1, x0, x1 in regions[1:]:
        assert 0 <= y0 < y1 <= 7 and 0 <= x0 < x1 <= 10
        assert y1 - y0 == x1 - x0  # square
    sides = sorted({y1 - y0 for y0, y1, _, _ in regions[1:]}, reverse=True)
    assert sides == [7, 5, 4]  # 2 * 7 / (l + 1) for l = 1, 2, 3
    covered = np.zeros((7, 10), bool)
    for y0, y1, x0, x1 in regions[1:]:
        if y1 - y0 == 4:
            covered[y0:y1, x0:x1] = True
    assert covered.all()  # the finest scale alone covers every cell
    assert rmac_regions(7, 10, 0) == ((0, 7, 0, 10),)


def test_regional_gem_equals_gem_of_each_slice() -> None:
    rng = np.random.default_rng(1)
    maps = rng.gamma(1.0, 1.0, (2, 16, 7, 9)).astype(np.float32)
    maps[0, :, 0, 0] = 0  # zeros are clamped like GeM does
    regions = rmac_regions(7, 9, 3)
    got = regional_gem(torch.from_numpy(maps), regions).numpy()
    assert got.shape == (2, len(regions), 16)
    for n in range(2):
        for r, (y0, y1, x0, x1) in enumerate(regions):
            part = np.maximum(maps[n, :, y0:y1, x0:x1], 1e-6).astype(np.float64)
            gem = np.mean(part**3, axis=(1, 2)) ** (1 / 3)
            np.testing.assert_allclose(got[n, r], gem / np.linalg.norm(gem), rtol=1e-4, atol=1e-6)
