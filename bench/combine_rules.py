# SPDX-License-Identifier: Apache-2.0
"""Rules for ``--combine all``: how well two photos together rank what they have in common.

Each trial queries a case with two photos combined ("all of") and measures the mAP over the
other photos they share (the two excluded), against the better of the two photos alone. The
product's combined query runs once per pair (``Case.query_spec``, every view, each photo searched
100 deep); each candidate's exact similarity to each photo, the near-copy bonus and the
candidates' re-ranking vectors are kept, and the candidates are ranked again offline by other
rules: the mean similarity (the rule shipped before), the best (the union), the mean after
z-scoring each photo's similarities, reciprocal-rank fusion, a weight per photo by how far its
best matches stand out, and diffusion from the two photos over their candidates' graph
(:mod:`imgsim_desktop.core.pipeline.richer.diffusion`) for several neighbour counts and alphas.

Sets:

- ``scene15-views`` (``--set scene15-views``, what the shipped diffusion parameters were chosen
  on): 1,500 15-Scene training photos; 100 of them are each shown as four views (a crop of
  40-60% of each side at a random place, turned by up to 10 degrees, brightness and contrast
  within 25%, saved as JPEG), standing in for several photos of one place taken from different
  spots; the others are whole. (With crops of 55-80% and no turn every rule scored 0.99.) Each group's first two views
  are the pair, the other two what they share.
- ``scene15-classes``: the same training photos whole, six random pairs of each class, the pair's
  class being what they share (category retrieval: there a hundred photos share a class and more
  neighbours win).
- ``holidays`` (the default; evaluation only): the richer-queries check's protocol, the
  holidays_805 groups with at least three other photos, the first two photos of each group as
  the pair; the check uses the first 15 groups, all 48 are reported too.

    python bench/combine_rules.py [--set holidays|scene15-views|scene15-classes] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from benchlib import bundled_embedder_key, write_result

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imgsim_desktop.core.pipeline.richer.diffusion import (  # noqa: E402
    ALPHA,
    MEAN_SHARE,
    NEIGHBOURS,
    diffuse,
    ranking,
)

Trial = tuple[str, str, list[str]]  # the pair, and what they share
Kept = dict[str, np.ndarray]
Rule = Callable[[Kept], np.ndarray]


def average_precision(names: list[str], relevant: set[str], exclude: set[str]) -> float:
    hits, total = 0, 0.0
    for position, name in enumerate((n for n in names if n not in exclude), 1):
        if name in relevant:
            hits += 1
            total += hits / position
    return total / len(relevant)


def _z(kept: Kept) -> np.ndarray:
    similarity, own = kept["similarity"], kept["own"]
    others = similarity[:, ~own]
    return (similarity - others.mean(1, keepdims=True)) / others.std(1, keepdims=True)


def _rrf(similarity: np.ndarray, k: int) -> np.ndarray:
    ranks = np.argsort(np.argsort(-similarity, axis=1), axis=1)
    return (1.0 / (k + ranks)).sum(0)


def _standing_out(kept: Kept) -> np.ndarray:
    similarity, own = kept["similarity"], kept["own"]
    weights = []
    for row in similarity:
        top = np.sort(row[~own])[::-1]
        weights.append(top[:3].mean() - top[10:50].mean())
    weights = np.array(weights) / np.sum(weights)
    return (similarity * weights[:, None]).sum(0)


def _diffusion(neighbours: int, alpha: float, share: float) -> Rule:
    def rule(kept: Kept) -> np.ndarray:
        relevance = diffuse(kept["pair"], kept["similarity"], kept["vectors"], neighbours, alpha)
        return ranking(relevance, kept["similarity"].mean(0), share)

    return rule


RULES: dict[str, Rule] = {
    "mean (shipped before)": lambda kept: kept["similarity"].mean(0),
    "best (the union)": lambda kept: kept["similarity"].max(0),
    "mean of z-scores": lambda kept: _z(kept).mean(0) * 0.1,
    "reciprocal-rank fusion, k 10": lambda kept: _rrf(kept["similarity"], 10) * 5,
    "reciprocal-rank fusion, k 60": lambda kept: _rrf(kept["similarity"], 60) * 30,
    "weighted by standing out": _standing_out,
}
for _count in (5, 10, 15):
    for _alpha in (0.5, 0.6, 0.7, 0.8, 0.9):
        for _share in (0.0, 0.25, 0.5, 1.0):
            _name = f"diffusion, {_count} neighbours, alpha {_alpha}, mean share {_share}"
            if (_count, _alpha, _share) == (NEIGHBOURS, ALPHA, MEAN_SHARE):
                _name += " (shipped)"
            RULES[_name] = _diffusion(_count, _alpha, _share)


def holidays_set(data: Path, case_dir: Path) -> list[Trial]:
    shutil.copytree(data / "holidays_805" / "images", case_dir)
    groundtruth = json.loads((data / "holidays_805" / "groundtruth.json").read_text())
    groups = [[q, *rel] for q, rel in sorted(groundtruth.items()) if len(rel) >= 3]
    return [(g[0], g[1], g[2:]) for g in groups]


def scene15_views_set(data: Path, case_dir: Path, groups: int = 100) -> list[Trial]:
    from PIL import Image, ImageEnhance

    case_dir.mkdir()
    choose = random.Random(7)
    photos = sorted(p for p in (data / "scene15" / "train").rglob("*") if p.is_file())
    shown = set(choose.sample(range(len(photos)), groups))
    trials: list[Trial] = []
    for n, path in enumerate(photos):
        name = f"{path.parent.name}_{path.stem}"
        if n not in shown:
            shutil.copy(path, case_dir / f"{name}{path.suffix}")
            continue
        picture = Image.open(path).convert("RGB")
        width, height = picture.size
        views = []
        for view in range(4):
            w, h = round(width * choose.uniform(0.4, 0.6)), round(height * choose.uniform(0.4, 0.6))
            x, y = choose.randint(0, width - w), choose.randint(0, height - h)
            crop = picture.crop((x, y, x + w, y + h)).rotate(
                choose.uniform(-10, 10), resample=Image.Resampling.BICUBIC, expand=False
            )
            crop = ImageEnhance.Brightness(crop).enhance(choose.uniform(0.75, 1.25))
            crop = ImageEnhance.Contrast(crop).enhance(choose.uniform(0.75, 1.25))
            views.append(f"{name}_view{view}.jpg")
            crop.save(case_dir / views[-1], "JPEG", quality=85)
        trials.append((views[0], views[1], views[2:]))
    return trials


def scene15_classes_set(data: Path, case_dir: Path, pairs: int = 6) -> list[Trial]:
    case_dir.mkdir()
    choose = random.Random(5)
    trials: list[Trial] = []
    for folder in sorted(p for p in (data / "scene15" / "train").iterdir() if p.is_dir()):
        names = []
        for path in sorted(folder.iterdir()):
            name = f"{folder.name}_{path.name}"
            shutil.copy(path, case_dir / name)
            names.append(name)
        for _ in range(pairs):
            a, b = choose.sample(names, 2)
            trials.append((a, b, [n for n in names if n not in (a, b)]))
    return trials


def measure(case_dir: Path, trials: list[Trial]) -> dict[str, list[float]]:
    """Per trial: the better photo alone, and each rule's average precision."""
    from imgsim_desktop.core import open_case
    from imgsim_desktop.core.pipeline.richer import combine, composite
    from imgsim_desktop.core.pipeline.richer.composite import Combine, QuerySpec

    kept: Kept = {}
    merge_all = composite.merge_all

    def keeping(parts, queries, catalog, k):  # type: ignore[no-untyped-def]
        ids = sorted({r.id for p in parts for r in p.results})
        per_image = []
        for part, query in zip(parts, queries, strict=True):
            known = {r.id: r.similarity for r in part.results}
            missing = [i for i in ids if i not in known]
            per_image.append({**known, **combine.exact_similarities(query, catalog, missing)})
        bonus: dict[int, float] = {}
        for part in parts:
            for r in part.results:
                bonus[r.id] = max(bonus.get(r.id, 0.0), r.score - r.similarity)
        names = {r.id: Path(r.path).name for p in parts for r in p.results}
        pair, vectors = combine.graph_vectors(catalog, ids, queries)
        kept.update(
            names=np.array([names[i] for i in ids]),
            similarity=np.array([[sims.get(i, 0.0) for i in ids] for sims in per_image]),
            bonus=np.array([bonus[i] for i in ids]),
            pair=pair,
            vectors=vectors,
        )
        return merge_all(parts, queries, catalog, k)

    composite.merge_all = keeping
    scores: dict[str, list[float]] = {"better photo alone": [], **{name: [] for name in RULES}}
    try:
        with open_case(case_dir, log_open=False) as case:
            case.index()
            for a, b, shared in trials:
                relevant, pair = set(shared), {a, b}
                spec = QuerySpec((str(case_dir / a), str(case_dir / b)), combine=Combine.ALL)
                case.query_spec(spec, k=100, all_scenes=True)
                alone = [
                    average_precision(
                        [
                            Path(r.path).name
                            for r in case.query(case_dir / n, k=100, all_scenes=True).results
                        ],
                        relevant,
                        pair,
                    )
                    for n in (a, b)
                ]
                scores["better photo alone"].append(max(alone))
                kept["own"] = np.array([n in pair for n in kept["names"]])
                for name, rule in RULES.items():
                    # ties (candidates diffusion does not reach) by mean similarity, as shipped
                    mean = kept["similarity"].mean(0)
                    order = np.lexsort((-mean, -(rule(kept) + kept["bonus"])))
                    ranked = [str(kept["names"][i]) for i in order[:100]]
                    scores[name].append(average_precision(ranked, relevant, pair))
    finally:
        composite.merge_all = merge_all
    return scores


SETS: dict[str, Callable[[Path, Path], list[Trial]]] = {
    "holidays": holidays_set,
    "scene15-views": scene15_views_set,
    "scene15-classes": scene15_classes_set,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--set", choices=sorted(SETS), default="holidays")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    name = args.set
    out = args.out or str(ROOT / "bench" / "results" / f"combine_rules_{name}.json")
    scratch = Path(tempfile.mkdtemp(prefix="imgsim-combine-"))
    os.environ["IMGSIM_HOME"] = str(scratch / "home")
    try:
        case_dir = scratch / "case"
        scores = measure(case_dir, SETS[name](args.data, case_dir))
    finally:
        shutil.rmtree(scratch)
    parts = {"all": len(scores["better photo alone"])}
    if name == "holidays":
        parts = {"check (first 15)": 15, **parts}
    report: dict = {"set": name, "trials": parts["all"], "map": {}}
    for part, count in parts.items():
        report["map"][part] = {
            rule: round(float(np.mean(values[:count])), 4) for rule, values in scores.items()
        }
        print(f"{name}, {part} ({count} pairs)")
        ordered = sorted(report["map"][part].items(), key=lambda item: -item[1])
        for rule, value in ordered:
            print(f"  {rule:48s} {value}")
    report["per_pair"] = {rule: [round(v, 3) for v in values] for rule, values in scores.items()}
    write_result(Path(out), report, bundled_embedder_key())
    return 0


if __name__ == "__main__":
    sys.exit(main())
