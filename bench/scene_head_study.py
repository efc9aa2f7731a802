# SPDX-License-Identifier: Apache-2.0
"""Scene head study: the layout input (shipped since it measured better here) against the 256-d
index vector the head read before.

15-Scene classes are largely layout (sky on top, floor below). The study computes, for every
15-Scene training image, its mirror image and every test image, the index vector and a "bands"
input (:mod:`imgsim_desktop.core.model.layout`): GeM (p = 3) of the whole last feature map and
of its top, middle and bottom bands (overlapping), each L2-normalised, concatenated (5120-d). A softmax head is fitted on each input
as ``tools/train_scene_head.py`` fits the shipped one (mirror images as extra training copies,
L2 strength by 5-fold cross-validation on the training split); the test split gives accuracy.

    python bench/scene_head_study.py [--data ../shared/data/scene15]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from benchlib import machine, write_result  # noqa: E402
from train_scene_head import cross_validate, fit  # noqa: E402

from imgsim_desktop.core.evidence.imagefile import load_for_embedding  # noqa: E402
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder  # noqa: E402


def inputs(paths: list[Path], embedder: EfficientNetLiteEmbedder, mirror: bool) -> tuple:
    layout, index = [], []
    for n, path in enumerate(paths):
        pixels = load_for_embedding(path, 224).pixels
        if mirror:
            pixels = np.ascontiguousarray(np.fliplr(pixels))
        described = embedder.describe([pixels])
        assert described.layout is not None
        layout.append(described.layout[0])
        index.append(described.index[0])
        print(f"\r{n + 1}/{len(paths)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return np.stack(layout), np.stack(index)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "scene15")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "scene_head_study.json"
    )
    args = parser.parse_args()
    embedder = EfficientNetLiteEmbedder()
    train = sorted((args.data / "train").glob("*/*.jpg"))
    test = sorted((args.data / "test").glob("*/*.jpg"))
    classes = sorted({p.parent.name for p in train})
    y_train = np.array([classes.index(p.parent.name) for p in train])
    y_test = np.array([classes.index(p.parent.name) for p in test])
    (b_tr, i_tr), (b_m, i_m), (b_te, i_te) = (
        inputs(train, embedder, False),
        inputs(train, embedder, True),
        inputs(test, embedder, False),
    )
    rows = []
    for name, (x, mirrored, x_test) in {
        "index vector (before)": (i_tr, i_m, i_te),
        "layout (shipped)": (b_tr, b_m, b_te),
    }.items():
        l2, scores, _ = cross_validate(x, y_train, [mirrored], len(classes))
        w, b = fit(
            np.concatenate([x, mirrored]), np.concatenate([y_train, y_train]), len(classes), l2
        )
        accuracy = float(((x_test @ w.T + b).argmax(axis=1) == y_test).mean())
        rows.append(
            {
                "input": name,
                "l2": l2,
                "cross_validated": scores[l2],
                "test_accuracy": round(accuracy, 4),
            }
        )
        print(f"{name}: L2 {l2:g} (cross-validated {scores[l2]:.4f}), test accuracy {accuracy:.4f}")
    write_result(args.out, {"rows": rows}, embedder.identity.key)
    print(machine())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
