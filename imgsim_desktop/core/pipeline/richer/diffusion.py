# SPDX-License-Identifier: Apache-2.0
"""Ranking the candidates of an "all of" query by diffusion from the query images.

The query images and their candidates are the nodes of a small graph: each node is joined to its
:data:`NEIGHBOURS` most similar nodes where the liking is mutual (a query image to its own
:data:`NEIGHBOURS` most similar in any case), an edge weighing the cosine cubed (query to candidate: the exact similarity a search gives, best over the query's views;
candidate to candidate: their stored vectors). Relevance starts on the query images and spreads
along the edges (personalised PageRank: ``f = (I - alpha S)^-1 y`` with ``S`` the symmetrically
normalised graph, :data:`ALPHA`), as in Iscen et al., "Efficient diffusion on region manifolds"
(CVPR 2017), there over a whole collection, here over one query's few hundred candidates.

Photos of the place both images show are neighbours of the images and of each other, so
relevance reaches them along many paths, including photos that resemble neither image closely
but resemble photos that do; a photo like one image only, in a crowd of look-alikes (a beach
among beaches), gets little. A plain mean of the two similarities cannot tell the two apart and
ranked the other photos of a place worse than the better image alone did
(``python bench/combine_rules.py``, README Richer queries).

:data:`NEIGHBOURS` and :data:`ALPHA` were chosen on views of one place made of 15-Scene
training photos (``python bench/combine_rules.py --set scene15-views``: crops of 40-60% of a
photo, turned, lit differently, among the other training photos), not on the evaluation photos.
"""

from __future__ import annotations

import numpy as np

#: Edges kept per node (mutual neighbours only).
NEIGHBOURS = 15
#: How far relevance spreads (0: the query images' own similarities only).
ALPHA = 0.6
#: Edge weight: the cosine to this power (close neighbours count far more than loose ones).
GAMMA = 3.0
#: Share of the mean similarity to the images added to the relevance (over its best) to rank
#: (0: the relevance alone, which the training views preferred to 0.25, 0.5 and 1).
MEAN_SHARE = 0.0
#: Candidates in the graph at most (a dense solve: 1,000 nodes take some 0.1 s); a query of
#: thousands of results diffuses over the closest by mean similarity.
MAX_NODES = 1000


def affinity(
    query_query: np.ndarray, query_candidate: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """The graph's (q + n, q + n) weights: cosines (negative ones cut to 0) to :data:`GAMMA`,
    the query images first, without self-loops."""
    queries = len(query_query)
    size = queries + len(candidates)
    weights = np.zeros((size, size), dtype=np.float64)
    weights[:queries, :queries] = query_query
    weights[:queries, queries:] = query_candidate
    weights[queries:, :queries] = query_candidate.T
    weights[queries:, queries:] = candidates @ candidates.T
    weights = np.clip(weights, 0.0, None) ** GAMMA
    np.fill_diagonal(weights, 0.0)
    return weights


def mutual_neighbours(weights: np.ndarray, count: int, sources: int = 0) -> np.ndarray:
    """``weights`` with only the edges where each node is among the other's ``count`` heaviest,
    and every edge of the first ``sources`` nodes (the query images) to their own ``count``
    heaviest: a tight group of near-identical photos (a burst, cached copies) picks only its own
    members, and would otherwise be cut off from the images it resembles."""
    count = max(1, min(count, len(weights) - 1))
    kth = -np.sort(-weights, axis=1)[:, count - 1 : count]
    kept = np.where(weights >= kth, weights, 0.0)
    graph = np.minimum(kept, kept.T)
    graph[:sources] = kept[:sources]
    graph[:, :sources] = np.maximum(graph[:, :sources], kept[:sources].T)
    return graph


def diffuse(
    query_query: np.ndarray,
    query_candidate: np.ndarray,
    candidates: np.ndarray,
    neighbours: int = NEIGHBOURS,
    alpha: float = ALPHA,
) -> np.ndarray:
    """(n,) the relevance of each candidate, the query images being the sources.

    Args:
        query_query: (q, q) cosines between the query images.
        query_candidate: (q, n) each candidate's similarity to each query image.
        candidates: (n, d) the candidates' unit vectors.
    """
    queries = len(query_query)
    if not len(candidates):
        return np.empty(0)
    if len(candidates) > MAX_NODES:  # the closest by mean similarity; the others reach nothing
        closest = np.sort(np.argsort(-query_candidate.mean(axis=0), kind="stable")[:MAX_NODES])
        relevance = np.zeros(len(candidates))
        relevance[closest] = diffuse(
            query_query, query_candidate[:, closest], candidates[closest], neighbours, alpha
        )
        return relevance
    weights = affinity(query_query, query_candidate, candidates)
    graph = mutual_neighbours(weights, neighbours, sources=queries)
    degree = graph.sum(axis=1)
    degree[degree == 0] = 1.0
    scale = 1.0 / np.sqrt(degree)
    normalised = graph * scale[:, None] * scale[None, :]
    sources = np.zeros(len(graph))
    sources[:queries] = 1.0
    relevance = np.linalg.solve(np.eye(len(graph)) - alpha * normalised, sources)
    return relevance[queries:]


def ranking(relevance: np.ndarray, mean: np.ndarray, share: float = MEAN_SHARE) -> np.ndarray:
    """The key an "all of" query ranks by (higher first, before the near-copy bonus): the
    relevance over its best, plus ``share`` of the mean similarity to the images, over
    ``1 + share`` so that it is at most 1, as a similarity is (a near copy's bonus of 1 still
    puts it above every other result)."""
    best = float(relevance.max()) if len(relevance) else 0.0
    return ((relevance / best if best > 0 else relevance) + share * mean) / (1.0 + share)
