# SPDX-License-Identifier: Apache-2.0
""" "All of" two photos ranks by diffusion from them: the photos of the place both show come
first, also one that resembles neither photo closely but resembles the photos that do, ahead of
a crowd of look-alikes of one photo only (which the mean similarity puts among them)."""

from __future__ import annotations

import numpy as np

from imgsim_desktop.core.pipeline.richer.diffusion import (
    MAX_NODES,
    diffuse,
    mutual_neighbours,
    ranking,
)

AXES = ("place", "view_a", "view_b", "crowd", "detail", *(f"own{n}" for n in range(24)))


def unit(**parts: float) -> np.ndarray:
    """A unit vector from named parts: the place, what each view shows, details."""
    vector = np.array([parts.get(axis, 0.0) for axis in AXES])
    return vector / np.linalg.norm(vector)


QUERIES = np.stack([unit(place=1, view_a=1), unit(place=1, view_b=1)])
PLACE = [
    unit(place=1, view_a=1, view_b=0.3),
    unit(place=1, view_b=1, view_a=0.3),
    unit(place=1, view_a=0.5, view_b=0.5, detail=1),  # close to neither photo
    unit(place=1, view_a=0.3, view_b=0.6, detail=0.7),
]
CROWD = [  # 24 look-alikes of the first photo only, each with something of its own
    unit(place=1, view_a=1, view_b=0.1, crowd=0.3, **{f"own{n}": 0.25}) for n in range(24)
]


def test_the_place_both_photos_show_comes_before_look_alikes_of_one() -> None:
    candidates = np.stack(PLACE + CROWD)
    similarity = QUERIES @ candidates.T
    mean = similarity.mean(axis=0)
    assert mean[len(PLACE) :].min() > mean[2:4].max()  # the mean puts the crowd above them
    relevance = diffuse(QUERIES @ QUERIES.T, similarity, candidates)
    assert set(np.argsort(-relevance)[: len(PLACE)]) == set(range(len(PLACE)))
    key = ranking(relevance, mean)
    assert set(np.argsort(-key)[: len(PLACE)]) == set(range(len(PLACE)))
    assert key.max() <= 1.0 + 1e-9  # a near copy's bonus of 1 still puts it above them all


def test_edges_are_mutual_and_no_candidates_is_no_ranking() -> None:
    weights = np.array([[0, 0.9, 0.1], [0.9, 0, 0.8], [0.1, 0.8, 0]])
    kept = mutual_neighbours(weights, 1)
    assert kept[0, 1] == kept[1, 0] == 0.9 and kept[1, 2] == kept[2, 1] == 0.0
    assert np.array_equal(kept, kept.T)
    assert diffuse(np.ones((2, 2)), np.empty((2, 0)), np.empty((0, 4))).shape == (0,)


def test_a_burst_of_near_identical_photos_like_both_images_is_not_cut_off() -> None:
    """Twelve frames of a burst pick only each other as neighbours; the query images' own edges
    still reach them, so they rank among the first (they ranked last, below 40 loose
    look-alikes of one image the mean similarity puts under them)."""
    draw = np.random.default_rng(3)
    dim = 32
    first, second = (v / np.linalg.norm(v) for v in draw.normal(size=(2, dim)))
    middle = (first + second) / np.linalg.norm(first + second)
    frame = 0.65 * middle + draw.normal(size=dim) * 0.08
    burst = [frame + draw.normal(size=dim) * 0.01 for _ in range(12)]
    like_first = [0.8 * first + draw.normal(size=dim) * 0.05 for _ in range(4)]
    loose = [0.3 * first + draw.normal(size=dim) * 0.15 for _ in range(40)]
    candidates = np.stack(burst + like_first + loose)
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    queries = np.stack([first, second])
    similarity = queries @ candidates.T
    assert similarity.mean(axis=0)[:12].min() > similarity.mean(axis=0)[16:].max()
    relevance = diffuse(queries @ queries.T, similarity, candidates)
    key = ranking(relevance, similarity.mean(axis=0))
    order = np.argsort(-key, kind="stable").tolist()
    assert max(order.index(n) for n in range(12)) < 24


def test_a_graph_of_thousands_diffuses_over_the_closest() -> None:
    draw = np.random.default_rng(4)
    candidates = draw.normal(size=(MAX_NODES + 200, 16))
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    queries = candidates[:2] * 0.9 + 0.1
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    similarity = queries @ candidates.T
    relevance = diffuse(queries @ queries.T, similarity, candidates)
    farthest = np.argsort(-similarity.mean(axis=0), kind="stable")[MAX_NODES:]
    assert relevance.shape == (MAX_NODES + 200,) and not relevance[farthest].any()
    assert relevance[:2].min() > 0
