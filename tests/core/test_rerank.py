# SPDX-License-Identifier: Apache-2.0
"""Exact re-ranking: an embedder's long vectors are stored (float16) beside each file and re-score
the index's nearest neighbours; the ranking follows them, not the short index vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imgsim_desktop.core import open_case
from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.embedder import Descriptions
from imgsim_desktop.core.model.pdq import NEAR_COPY_DISTANCE
from imgsim_desktop.core.pipeline.ranking import fused_score
from imgsim_desktop.core.store.rerank import RERANK_KIND, rerank_vectors
from tests.core.fakes import FakeEmbedder, fake_head


class RerankingFakeEmbedder(FakeEmbedder):
    """Index vectors from a 4x4 thumbnail (coarse), re-ranking vectors from a 12x12 one."""

    def __init__(self) -> None:
        super().__init__("-rerank")

    def fine(self, images: list[np.ndarray]) -> np.ndarray:
        out = []
        for pixels in images:
            small = Image.fromarray(pixels).resize((12, 12), Image.Resampling.BOX)
            vector = np.asarray(small, np.float32).reshape(-1) - 127.5
            out.append(vector / (np.linalg.norm(vector) or 1.0))
        return np.stack(out).astype(np.float32)

    def describe(self, images: list[np.ndarray]) -> Descriptions:
        return Descriptions(self.embed(images), self.fine(images))

    def project(self, rerank: np.ndarray) -> np.ndarray:
        raise AssertionError("the query of this test has one scale only")


def _picture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(60, 200, (4, 4, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse).resize((96, 96), Image.Resampling.NEAREST), np.int16)
    detail = rng.integers(-50, 50, (96, 96, 3))
    return np.clip(base + detail, 0, 255).astype(np.uint8)


def test_results_are_ranked_by_the_stored_long_vectors(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    pictures = {f"p{n:02d}.png": _picture(n) for n in range(30)}
    # Same coarse layout as p00, another pattern inside each coarse cell (a checkerboard of
    # 8-pixel squares): close in the index space, far in the long one.
    squares = (np.indices((96, 96)) // 8).sum(axis=0) % 2 * 120 - 60
    twin = _picture(0).astype(np.int16) + squares[..., None]
    pictures["twin.png"] = np.clip(twin, 0, 255).astype(np.uint8)
    for name, pixels in pictures.items():
        Image.fromarray(pixels).save(case_dir / name)
    query = tmp_path / "query.png"
    Image.fromarray(pictures["p00.png"]).save(query)
    embedder = RerankingFakeEmbedder()
    with open_case(case_dir, embedder=embedder, head=fake_head(threshold=0.0)) as case:
        case.index()
        catalog = case._open_catalog(create=False)
        ids = [r.id for r in case.files()]
        found_ids, _ = rerank_vectors(catalog, ids, 432)
        assert sorted(found_ids.tolist()) == sorted(ids)  # one per indexed file, 12*12*3 floats
        assert len(catalog.extras(RERANK_KIND, ids[:1])[ids[0]]) == 2 * 432  # float16
        result = case.query(
            query, k=5, all_scenes=True, rotations=False, scales=False, windows=False
        )
    paths = [r.path for r in result.results]
    assert paths[0] == "p00.png"
    seen = [load_for_embedding(p, 64).pixels for p in [*(case_dir / n for n in pictures), query]]
    fine, coarse = embedder.fine(seen), embedder.embed(seen)
    names = list(pictures)
    expected = {n: float(v) for n, v in zip(names, fine[:-1] @ fine[-1], strict=True)}
    for record in result.results:  # the stored float16 vectors, exactly re-scored
        assert record.similarity == pytest.approx(expected[record.path], abs=2e-3)
        fused = fused_score(record.similarity, record.pdq_distance, NEAR_COPY_DISTANCE)
        assert record.score == pytest.approx(fused, abs=1e-6)
    scores = [r.score for r in result.results]
    assert scores == sorted(scores, reverse=True)
    twin = names.index("twin.png")
    coarse_twin = float(coarse[twin] @ coarse[-1])
    reported = next(r.similarity for r in result.results if r.path == "twin.png")
    assert coarse_twin - reported > 0.2  # the index vectors alone would call it a near twin
