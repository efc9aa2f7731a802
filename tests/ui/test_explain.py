# SPDX-License-Identifier: Apache-2.0
"""The words a result's numbers are shown in: which bonus made the score, and the verdicts for a
near copy (PDQ), a copy or crop found by its pixels, and a look-alike."""

from __future__ import annotations

from imgsim_desktop.core.pipeline.ranking import fused_score
from imgsim_desktop.core.pipeline.results import ResultRecord
from imgsim_desktop.ui.results import explain


def record(similarity: float, distance: int | None, correlation: float | None) -> ResultRecord:
    return ResultRecord(
        rank=1,
        id=1,
        path="a.jpg",
        absolute_path="/case/a.jpg",
        score=fused_score(similarity, distance, 31, correlation),
        scene="other",
        sha256=None,
        size=1,
        width=None,
        height=None,
        similarity=similarity,
        pdq_distance=distance,
        near_copy=distance is not None and distance <= 31,
        copy_correlation=correlation,
    )


def test_a_near_copy_a_pixel_copy_and_a_look_alike_are_told_apart() -> None:
    near = record(0.8, 6, None)
    assert explain.badge_text(near) == "near copy" and explain.is_copy(near)
    assert explain.score_text(near, 31) == "1.800 = similarity 0.800 + near-copy bonus 1.000"
    assert explain.verdict_text(near, 31) == "yes (PDQ distance 6 ≤ 31)"

    crop = record(0.6, 110, 0.9)
    assert explain.badge_text(crop) == "copy (pixels)" and explain.is_copy(crop)
    assert explain.score_text(crop, 31) == "1.100 = similarity 0.600 + copy bonus 0.500"
    assert explain.verdict_text(crop, 31).startswith(
        "a copy or crop by its pixels (correlation 0.90"
    )
    assert explain.copy_check_text(crop).startswith("correlation 0.90: a copy or crop")

    alike = record(0.7, 120, 0.5)
    assert explain.badge_text(alike) is None and not explain.is_copy(alike)
    assert explain.score_text(alike, 31) == "0.700 = similarity 0.700 (no copy bonus)"
    assert explain.verdict_text(alike, 31) == "no (PDQ distance 120 > 31): a look-alike"
    assert explain.copy_check_text(record(0.7, 120, None)).startswith("not measured")
