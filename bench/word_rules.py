# SPDX-License-Identifier: Apache-2.0
"""Rules for ``imgsim find``, measured on the 15-Scene *training* photos.

The richer-queries check asks ``imgsim find`` for five words on 429 15-Scene test photos
(``[::7][:40]`` of each class: 16 kitchens, 17 bedrooms and 17 offices, up to 40 of the outdoor
classes) and counts how many of each word's top 20 are its scene. This bench replays that
protocol on the training photos, which may be learnt from: 30 random draws of as many photos per
class as the check has, each word's precision at 20 averaged over the draws. It compares the
shipped labels (whole picture and parts, top 50 stored) with other ways of reading the same
forward pass, and with pseudo-relevance feedback on the stored labels (the word's surest images
stand for it, and images whose label profile is like theirs rise) and on the scene head's
probabilities (images whose scene is like theirs rise, :mod:`imgsim_desktop.core.pipeline.
scene_feedback`). The shipped scene head was trained on
these very photos, so the scene probabilities here come from heads that did not see the photo
they label: ``tools/train_scene_head.py``'s own cross-validation (5 folds, its L2 grid, without
its mirrored training copies), a little weaker than the shipped head.

    python bench/word_rules.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from benchlib import bundled_embedder_key, write_result

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = {
    "seashore": "coast",
    "bed": "bedroom",
    "computer": "office",
    "refrigerator": "kitchen",
    "mountain": "mountain",
}
DRAWS = 30
Rule = Callable[[np.ndarray, list[int]], np.ndarray]


def check_sizes(data: Path) -> dict[str, int]:
    """Photos per class in the check's case: ``[::7][:40]`` of each test class."""
    test = data / "scene15" / "test"
    return {d.name: min(40, -(-len(list(d.iterdir())) // 7)) for d in test.iterdir() if d.is_dir()}


def probabilities(data: Path) -> dict[str, np.ndarray]:
    """Each training photo's label probabilities: shipped (whole and parts), whole map only and
    the parts' best, from the product's own forward pass."""
    import torch

    from imgsim_desktop.core.evidence.imagefile import load_for_embedding
    from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
    from imgsim_desktop.core.model.objects import object_probabilities, region_slices

    embedder = EfficientNetLiteEmbedder()
    model = embedder.model
    files = sorted(p for p in (data / "scene15" / "train").rglob("*") if p.is_file())
    from imgsim_desktop.core.model.layout import regions_and_layout

    shipped, whole, parts, layouts = [], [], [], []
    with torch.inference_mode():
        for path in files:
            pixels = load_for_embedding(path, embedder.identity.shorter_side).pixels
            features = model.forward_features(embedder._to_tensor([pixels]))
            shipped.append(object_probabilities(features, model.classifier)[0])
            pooled = torch.stack(
                [
                    features[0, :, r, c].mean(dim=(1, 2))
                    for r, c in region_slices(*features.shape[2:])
                ]
            )
            regions = torch.softmax(model.classifier(pooled), dim=1).numpy()
            whole.append(regions[0])
            parts.append(regions.max(axis=0))
            layouts.append(regions_and_layout(features, 0)[1][0])
    return {
        "labels": np.array([p.parent.name for p in files]),
        "shipped": np.stack(shipped),
        "whole": np.stack(whole),
        "parts": np.stack(parts),
        "layout": np.stack(layouts).astype(np.float32),
    }


def scenes_out_of_fold(
    layout: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, dict[str, float]]:
    """Each photo's scene probabilities from a head trained without it (the scene head tool's
    cross-validation), and that head's L2 and out-of-fold accuracy."""
    sys.path.insert(0, str(ROOT / "tools"))
    from train_scene_head import cross_validate

    names = sorted(set(classes.tolist()))
    y = np.array([names.index(c) for c in classes])
    l2, accuracy, probabilities = cross_validate(layout, y, [], len(names))
    print(f"out-of-fold scene head: L2 {l2:g}, accuracy {accuracy[l2]:.4f}", file=sys.stderr)
    right = float(np.mean(probabilities.argmax(axis=1) == y))
    return probabilities.astype(np.float32), {"l2": l2, "accuracy": round(right, 4)}


def stored(probabilities: np.ndarray, top: int = 50, least: float = 0.001) -> np.ndarray:
    """What the catalogue keeps: each image's ``top`` labels (at least ``least``)."""
    order = np.argsort(-probabilities, axis=1)[:, :top]
    kept = np.zeros_like(probabilities)
    np.put_along_axis(kept, order, np.take_along_axis(probabilities, order, axis=1), axis=1)
    kept[kept < least] = 0.0
    return kept


def summed(labels: np.ndarray, wanted: list[int]) -> np.ndarray:
    return np.minimum(1.0, labels[:, wanted].sum(axis=1))


def feedback(seeds: int, weight: float) -> Rule:
    """The summed score, plus ``weight`` times the cosine of each image's label profile (each
    label divided by its mean over the case, square-rooted) with the mean profile of the
    ``seeds`` best images."""

    def rule(labels: np.ndarray, wanted: list[int]) -> np.ndarray:
        score = summed(labels, wanted)
        profile = np.sqrt(labels / (labels.mean(axis=0) + 1e-3))
        profile /= np.linalg.norm(profile, axis=1, keepdims=True) + 1e-9
        centre = profile[np.argsort(-score, kind="stable")[:seeds]].mean(axis=0)
        centre /= np.linalg.norm(centre) + 1e-9
        return score / max(float(score.max()), 1e-9) + weight * (profile @ centre)

    return rule


def product(
    probabilities: np.ndarray, scenes: np.ndarray | None = None, scene_weight: float | None = None
) -> Callable[[np.ndarray, list[int]], np.ndarray]:
    """The shipped ranking (:func:`~imgsim_desktop.core.pipeline.words.word_ranking.rank_for_word`)
    of a draw, from the labels as the catalogue stores them and the images' ``scenes``
    probabilities (None: as for a case without them), with its scene weight or
    ``scene_weight``; returns a rule giving each image its place (images not found last)."""
    from imgsim_desktop.core.model.objects import encode
    from imgsim_desktop.core.pipeline.words.word_ranking import (
        SCENE_WEIGHT,
        LabelTable,
        rank_for_word,
    )

    blobs = [encode(p) for p in probabilities]
    weight = SCENE_WEIGHT if scene_weight is None else scene_weight

    def rule(rows: np.ndarray, wanted: list[int]) -> np.ndarray:
        table = LabelTable.from_blobs({n: blobs[r] for n, r in enumerate(rows.tolist())})
        in_scenes = None if scenes is None else scenes[rows]
        ranking = rank_for_word(table, np.arange(len(rows)), wanted, in_scenes, weight)
        place = np.full(len(rows), -1e9)
        place[ranking.order] = -np.arange(len(ranking.order), dtype=float)
        return place

    return rule


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "word_rules.json"))
    args = parser.parse_args()
    from imgsim_desktop.core.model.object_words import labels_for_word
    from imgsim_desktop.core.model.objects import imagenet_labels

    names = imagenet_labels()
    found = probabilities(args.data)
    classes = found["labels"]
    sizes = check_sizes(args.data)
    draw = np.random.default_rng(0)
    draws = [
        np.concatenate(
            [draw.choice(np.flatnonzero(classes == c), sizes[c], replace=False) for c in sizes]
        )
        for _ in range(DRAWS)
    ]
    shipped = stored(found["shipped"])
    setups: dict[str, tuple[np.ndarray, Rule]] = {
        "labels of whole and parts, summed (before)": (shipped, summed),
        "whole picture only, summed": (stored(found["whole"]), summed),
        "best part only, summed": (stored(found["parts"]), summed),
    }
    for seeds in (3, 5, 10):
        for weight in (0.25, 1.0, 4.0):
            name = f"summed + label feedback, {seeds} seeds, weight {weight}"
            setups[name] = (shipped, feedback(seeds, weight))
    # Each way of ranking, given a draw's rows and the word's labels.
    rankers: dict[str, Callable[[np.ndarray, list[int]], np.ndarray]] = {
        name: (lambda rows, wanted, labels=labels, rule=rule: rule(labels[rows], wanted))
        for name, (labels, rule) in setups.items()
    }
    rankers["found by their labels, ordered with label feedback (no scenes)"] = product(
        found["shipped"]
    )
    scenes, scene_head = scenes_out_of_fold(found["layout"], classes)
    for weight in (0.5, 1.0, 3.0, 4.0, 8.0):
        rankers[f"label feedback + scene term, weight {weight}"] = product(
            found["shipped"], scenes, weight
        )
    from imgsim_desktop.core.pipeline.words.word_ranking import SCENE_WEIGHT

    shipped_name = f"shipped: label feedback + scene term, weight {SCENE_WEIGHT:g}"
    rankers[shipped_name] = product(found["shipped"], scenes)
    report: dict = {
        "draws": DRAWS,
        "photos_per_class": sizes,
        "out_of_fold_scene_head": scene_head,
        "precision_at_20": {},
        "average_minus_shipped": {},
    }
    per_draw: dict[str, np.ndarray] = {}  # each rule's average over the words, per draw
    for name, rank in rankers.items():
        precision = {}
        hits = np.zeros((len(WORDS), DRAWS))
        for w, (word, scene) in enumerate(WORDS.items()):
            wanted = labels_for_word(word, names)
            for n, d in enumerate(draws):
                top = np.argsort(-rank(d, wanted), kind="stable")[:20]
                hits[w, n] = np.mean(classes[d][top] == scene)
            precision[word] = round(float(hits[w].mean()), 3)
        precision["average"] = round(float(hits.mean()), 3)
        per_draw[name] = hits.mean(axis=0)
        report["precision_at_20"][name] = precision
        print(f"{name:70s}", " ".join(f"{w}={p}" for w, p in precision.items()))
    # The draws are the same for every rule: the paired difference to the shipped rule and its
    # standard error say which gaps are more than the draws' noise.
    for name, averages in per_draw.items():
        gap = averages - per_draw[shipped_name]
        report["average_minus_shipped"][name] = {
            "mean": round(float(gap.mean()), 4),
            "standard_error": round(float(gap.std(ddof=1) / np.sqrt(DRAWS)), 4),
        }
    write_result(Path(args.out), report, bundled_embedder_key())
    return 0


if __name__ == "__main__":
    sys.exit(main())
