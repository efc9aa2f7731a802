# SPDX-License-Identifier: Apache-2.0
"""Learn the descriptor shipped in ``imgsim_desktop/resources/descriptor_rmac.npz``.

Reproducible and deterministic, from the 15-Scene training images and ukbench_mini
(``../shared/data``; never the evaluation sets): each image and ``--augmentations`` seeded changes
of it (``tools/augment.py``: crops, mirror images, heavy JPEG, downscaling, colour, captions, blur,
viewpoint) are decoded as the product decodes files, and their raw regional GeM vectors computed
with the bundled backbone (the indexing code path, no descriptor).

1. The learned whitening (1280 -> ``--dim``) from matching pairs: each image with its changed
   copies, and the ukbench photos of the same object (groups of four); the whole-image vectors of
   every training image give its mean and rotation; ``--shrink`` regularises the covariance.
2. The aggregated vectors of all training images (regions whitened, summed, normalised) give the
   index projection: a PCA to 256 dimensions with partial whitening (``--alpha``).

Retrain the scene head afterwards (``tools/train_scene_head.py``): it works on the index vectors.

    python tools/train_descriptor.py [--data ../shared/data] [--dim 768] [--levels 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from augment import augment

from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.descriptor import (
    RERANK_DIM,
    RESOURCE,
    Descriptor,
    Projection,
    fit_projection,
    fit_whitening,
    make_projection,
    save_descriptor,
)
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder, aggregate

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "imgsim_desktop" / "resources"
SOURCES = ("scene15/train/*/*.jpg", "ukbench_mini/images/*.jpg")
CHUNK = 64


def regional(
    paths: list[Path], embedder: EfficientNetLiteEmbedder, augmentations: int, levels: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
    """Raw regional vectors of every image and of its seeded changes (and each change's
    source image)."""
    side = embedder.identity.shorter_side
    originals: list[np.ndarray] = []
    changed: list[np.ndarray] = []
    sources: list[int] = []
    pending: list[np.ndarray] = []
    for i, path in enumerate(paths):
        originals.extend(embedder.regions([load_for_embedding(path, side).pixels], levels))
        rng = random.Random(1000 + i)
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        for _ in range(augmentations):
            pending.append(augment(image, rng, side)[0])
            sources.append(i)
        if len(pending) >= CHUNK or i == len(paths) - 1:
            changed.extend(embedder.regions(pending, levels))
            pending = []
            print(f"\r{i + 1}/{len(paths)} images", end="", file=sys.stderr)
    print(file=sys.stderr)
    return originals, changed, sources


def ukbench_pairs(paths: list[Path]) -> list[tuple[int, int]]:
    """Index pairs of ukbench photos of the same object (files come in groups of four)."""
    group = {
        i: int(p.stem[len("ukbench") :]) // 4 for i, p in enumerate(paths) if "ukbench" in p.name
    }
    return [(a, b) for a, b in itertools.combinations(sorted(group), 2) if group[a] == group[b]]


def aggregated(vectors: list[np.ndarray], whitening: Projection) -> np.ndarray:
    """Aggregated (whitened regions summed) vectors, as the embedder computes them."""
    identity = make_projection(np.zeros(whitening.dim), np.eye(whitening.dim), 0.0)
    plain = Descriptor(whitening, identity, 0)
    return np.concatenate(
        [aggregate(torch.from_numpy(v[None]), plain) for v in vectors]  # regions vary by shape
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--dim", type=int, default=RERANK_DIM)
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--augmentations", type=int, default=4)
    parser.add_argument("--shrink", type=float, default=0.3)
    parser.add_argument("--index-dim", type=int, default=256)
    parser.add_argument("--alpha", type=float, default=0.25)
    args = parser.parse_args()
    paths = [p for pattern in SOURCES for p in sorted(args.data.glob(pattern))]
    if not paths:
        print(f"no training images under {args.data}", file=sys.stderr)
        return 1
    started = time.monotonic()
    embedder = EfficientNetLiteEmbedder(project=False)
    originals, changed, sources = regional(paths, embedder, args.augmentations, args.levels)
    whole = np.stack([v[0] for v in originals])
    whole_changed = np.stack([v[0] for v in changed])
    pairs = ukbench_pairs(paths)
    first = np.concatenate([whole[sources], whole[[a for a, _ in pairs]]])
    second = np.concatenate([whole_changed, whole[[b for _, b in pairs]]])
    whitening = fit_whitening(
        np.concatenate([whole, whole_changed]), first, second, args.dim, args.shrink
    )
    projection, eigenvalues = fit_projection(
        aggregated(originals + changed, whitening), args.index_dim, args.alpha
    )
    descriptor = Descriptor(whitening, projection, args.levels)
    save_descriptor(descriptor, OUT / RESOURCE)
    report = {
        "backbone": embedder.identity.key,
        "descriptor": descriptor.name,
        "images": len(paths),
        "sources": list(SOURCES),
        "augmentations_per_image": args.augmentations,
        "pairs": {"changed_copies": len(sources), "ukbench_same_object": len(pairs)},
        "levels": args.levels,
        "rerank_dim": args.dim,
        "shrink": args.shrink,
        "index_dim": args.index_dim,
        "alpha": args.alpha,
        "index_variance_kept": round(
            float(eigenvalues[: args.index_dim].sum() / eigenvalues.sum()), 4
        ),
        "seconds": round(time.monotonic() - started),
    }
    (OUT / "descriptor_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
