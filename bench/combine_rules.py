# SPDX-License-Identifier: Apache-2.0
"""Rules for ``--combine all``, replayed on the richer-queries check's protocol.

The check takes the first 15 holidays_805 groups with at least 3 other photos, queries with the
group's first two photos combined, and compares the mAP over the group's other photos with the
better of the two photos alone. This bench runs the product's combined query once per pair
(``Case.query_spec``, every view, candidates searched 100 deep), keeps each candidate's exact
similarity to each photo and the near-copy bonus, and then ranks the candidates by other rules
offline: the shipped mean, the best similarity (the union), the mean after z-scoring each photo's
similarities over the candidates, reciprocal-rank fusion, and a weight per photo by how far its
best matches stand out. Holidays is for evaluation: this measures rules, it does not choose one.

    python bench/combine_rules.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from benchlib import bundled_embedder_key, write_result

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def average_precision(names: list[str], relevant: set[str], exclude: set[str]) -> float:
    hits, total = 0, 0.0
    for position, name in enumerate((n for n in names if n not in exclude), 1):
        if name in relevant:
            hits += 1
            total += hits / position
    return total / len(relevant)


def _z(similarity: np.ndarray, own: np.ndarray) -> np.ndarray:
    others = similarity[:, ~own]
    return (similarity - others.mean(1, keepdims=True)) / others.std(1, keepdims=True)


def _rrf(similarity: np.ndarray, k: int) -> np.ndarray:
    ranks = np.argsort(np.argsort(-similarity, axis=1), axis=1)
    return (1.0 / (k + ranks)).sum(0)


def _standing_out(similarity: np.ndarray, own: np.ndarray) -> np.ndarray:
    weights = []
    for row in similarity:
        top = np.sort(row[~own])[::-1]
        weights.append(top[:3].mean() - top[10:50].mean())
    weights = np.array(weights) / np.sum(weights)
    return (similarity * weights[:, None]).sum(0)


RULES = {
    "mean (shipped)": lambda s, own: s.mean(0),
    "best (the union)": lambda s, own: s.max(0),
    "mean of z-scores": lambda s, own: _z(s, own).mean(0) * 0.1,
    "reciprocal-rank fusion, k 10": lambda s, own: _rrf(s, 10) * 5,
    "reciprocal-rank fusion, k 60": lambda s, own: _rrf(s, 60) * 30,
    "weighted by standing out": _standing_out,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "combine_rules.json"))
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="imgsim-combine-"))
    os.environ["IMGSIM_HOME"] = str(scratch / "home")
    from imgsim_desktop.core import open_case
    from imgsim_desktop.core.pipeline import combine, composite
    from imgsim_desktop.core.pipeline.composite import Combine, QuerySpec

    holidays = args.data / "holidays_805"
    case_dir = scratch / "holidays"
    shutil.copytree(holidays / "images", case_dir)
    groundtruth = json.loads((holidays / "groundtruth.json").read_text())
    groups = [[q, *rel] for q, rel in sorted(groundtruth.items()) if len(rel) >= 3][:15]
    kept: dict = {}
    merge_all = composite.merge_all

    def keeping(parts, queries, catalog, k):  # type: ignore[no-untyped-def]
        ids = sorted({r.id for p in parts for r in p.results})
        per_image = []
        for part, query in zip(parts, queries, strict=True):
            known = {r.id: r.similarity for r in part.results}
            missing = [i for i in ids if i not in known]
            per_image.append({**known, **combine.exact_similarities(query, catalog, missing)})
        bonus = {}
        for part in parts:
            for r in part.results:
                bonus[r.id] = max(bonus.get(r.id, 0.0), r.score - r.similarity)
        names = {r.id: Path(r.path).name for p in parts for r in p.results}
        similarity = np.array([[sims.get(i, 0.0) for i in ids] for sims in per_image])
        kept.update(names=[names[i] for i in ids], similarity=similarity)
        kept["bonus"] = np.array([bonus[i] for i in ids])
        return merge_all(parts, queries, catalog, k)

    composite.merge_all = keeping
    scores: dict[str, list[float]] = {name: [] for name in RULES}
    better: list[float] = []
    try:
        with open_case(case_dir, log_open=False) as case:
            case.index()
            for group in groups:
                a, b, rest = group[0], group[1], set(group[2:])
                pair = {a, b}
                spec = QuerySpec((str(case_dir / a), str(case_dir / b)), combine=Combine.ALL)
                case.query_spec(spec, k=100, all_scenes=True)
                alone = [
                    average_precision(
                        [
                            Path(r.path).name
                            for r in case.query(case_dir / n, k=100, all_scenes=True).results
                        ],
                        rest,
                        pair,
                    )
                    for n in (a, b)
                ]
                better.append(max(alone))
                own = np.array([n in pair for n in kept["names"]])
                for name, rule in RULES.items():
                    order = np.argsort(-(rule(kept["similarity"], own) + kept["bonus"]))
                    ranked = [kept["names"][i] for i in order[:100]]
                    scores[name].append(average_precision(ranked, rest, pair))
    finally:
        composite.merge_all = merge_all
        shutil.rmtree(scratch)
    report = {
        "pairs": len(groups),
        "better_photo_alone_map": round(float(np.mean(better)), 4),
        "rules_map": {name: round(float(np.mean(v)), 4) for name, v in scores.items()},
        "per_pair": {name: [round(x, 3) for x in v] for name, v in scores.items()},
        "better_photo_alone_per_pair": [round(x, 3) for x in better],
    }
    print(f"the better photo of each pair alone: {report['better_photo_alone_map']}")
    for name, value in report["rules_map"].items():
        print(f"{name:32s} {value}")
    if args.out:
        write_result(Path(args.out), report, bundled_embedder_key())
    return 0


if __name__ == "__main__":
    sys.exit(main())
