# SPDX-License-Identifier: Apache-2.0
"""Learn the descriptor projection shipped in ``imgsim_desktop/resources/descriptor_pca.npz``.

Reproducible: the 15-Scene training images and ukbench_mini (``../shared/data``; never the
evaluation sets Holidays or Oxford) are embedded with the bundled backbone without projection (raw
1280-d GeM vectors, the indexing code path), and a PCA is fitted (eigen-decomposition of the
covariance, axes ordered and signed deterministically). The first ``--dim`` axes are kept and each
is divided by its eigenvalue to the power ``--alpha`` (partial whitening). Retrain the scene head
afterwards (``tools/train_scene_head.py``): it works on the projected vectors.

    python tools/train_descriptor.py [--data ../shared/data] [--dim 256] [--alpha 0.25]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from imgsim_desktop.core.evidence.imagefile import load_for_embedding
from imgsim_desktop.core.model.descriptor import RESOURCE, fit_projection, save_projection
from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "imgsim_desktop" / "resources"
SOURCES = ("scene15/train/*/*.jpg", "ukbench_mini/images/*.jpg")


def embed(paths: list[Path], embedder: EfficientNetLiteEmbedder) -> np.ndarray:
    vectors = []
    for start in range(0, len(paths), 64):
        pixels = [
            load_for_embedding(p, embedder.identity.shorter_side).pixels
            for p in paths[start : start + 64]
        ]
        vectors.append(embedder.embed(pixels))
        print(f"\rembedded {start + len(pixels)}/{len(paths)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return np.concatenate(vectors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--alpha", type=float, default=0.25)
    args = parser.parse_args()
    paths = [p for pattern in SOURCES for p in sorted(args.data.glob(pattern))]
    if not paths:
        print(f"no training images under {args.data}", file=sys.stderr)
        return 1
    embedder = EfficientNetLiteEmbedder(project=False)
    vectors = embed(paths, embedder)
    projection, eigenvalues = fit_projection(vectors, args.dim, args.alpha)
    save_projection(projection, OUT / RESOURCE)
    kept = float(eigenvalues[: args.dim].sum() / eigenvalues.sum())
    report = {
        "backbone": embedder.identity.key,
        "projection": projection.name,
        "images": len(paths),
        "sources": list(SOURCES),
        "dim": args.dim,
        "alpha": args.alpha,
        "variance_kept": round(kept, 4),
    }
    (OUT / "descriptor_pca_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
