# SPDX-License-Identifier: Apache-2.0
"""Train the scene head shipped in ``imgsim_desktop/resources/scene_head.npz``.

Reproducible: the 15-Scene training images (``../shared/data/scene15/train``) are embedded with
the bundled embedder (the same code path as indexing), then a softmax-regression head is fitted
with full-batch L-BFGS from zero weights (deterministic). The test split gives the accuracy that is
written into the head and into ``scene_head_report.json`` beside it.

    python tools/train_scene_head.py [--data ../shared/data/scene15]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
from imgsim_desktop.core.model.scenes import OTHER, SceneHead

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_descriptor import embed

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "imgsim_desktop" / "resources"
L2 = 1e-4
OTHER_THRESHOLD = 0.25


def embed_split(folder: Path, embedder: EfficientNetLiteEmbedder) -> tuple[np.ndarray, list[str]]:
    paths = sorted(folder.glob("*/*.jpg"))
    return embed(paths, embedder), [p.parent.name for p in paths]


def fit(x: np.ndarray, y: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    torch.manual_seed(0)
    xt, yt = torch.from_numpy(x).double(), torch.from_numpy(y)
    w = torch.zeros(classes, x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [w, b],
        lr=1.0,
        max_iter=500,
        tolerance_grad=1e-9,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xt @ w.T + b, yt) + L2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().float().numpy(), b.detach().float().numpy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "scene15")
    args = parser.parse_args()
    embedder = EfficientNetLiteEmbedder()
    x_train, train_labels = embed_split(args.data / "train", embedder)
    x_test, test_labels = embed_split(args.data / "test", embedder)
    classes = sorted(set(train_labels))
    y_train = np.array([classes.index(c) for c in train_labels])
    y_test = np.array([classes.index(c) for c in test_labels])
    weights, bias = fit(x_train, y_train, len(classes))
    head = SceneHead(tuple(classes), weights, bias, OTHER_THRESHOLD, embedder.identity.key, 0.0)
    probs = head.probabilities(x_test)
    predicted = probs.argmax(axis=1)
    accuracy = float((predicted == y_test).mean())
    train_accuracy = float((head.probabilities(x_train).argmax(axis=1) == y_train).mean())
    confident = probs.max(axis=1) >= OTHER_THRESHOLD
    head = SceneHead(
        tuple(classes), weights, bias, OTHER_THRESHOLD, embedder.identity.key, accuracy
    )
    head.save(OUT / "scene_head.npz")
    report = {
        "embedder": embedder.identity.key,
        "l2": L2,
        "other_threshold": OTHER_THRESHOLD,
        "train_images": len(y_train),
        "test_images": len(y_test),
        "train_accuracy": round(train_accuracy, 4),
        "test_accuracy": round(accuracy, 4),
        f"test_share_labelled_{OTHER}": round(float(1 - confident.mean()), 4),
        "test_accuracy_when_confident": round(float((predicted == y_test)[confident].mean()), 4),
    }
    (OUT / "scene_head_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
