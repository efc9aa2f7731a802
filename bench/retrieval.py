# SPDX-License-Identifier: Apache-2.0
"""Search quality through the code path of ``imgsim query``: Holidays mAP and the copy bench.

1. INRIA Holidays (holidays_805, evaluation only): the images are indexed as a case (read only;
   app data in a scratch IMGSIM_HOME), the 300 official queries run with ``Case.query``; mAP@k
   with the query itself excluded (the acceptance check's protocol), per-scene at the default
   coverage and over all scenes, for each query setting (views, scales, windows).
2. The copy bench (as ``../shared/checks/quality`` builds it, seed 1126): 8 attacked copies of
   100 holidays photos hide among the other 705 photos; the originals are the queries. Per
   attack: R@1 (the copy first among the results that are not the query's other copies) and
   the share of returned copies flagged ``near_copy``; the share of other photos flagged (a
   holidays group's own photos not counted).
3. The warm query time (model loaded, as in the GUI): median and 90th percentile per setting.

Query vectors are memoised per picture, so each setting costs only what it adds.

    python bench/retrieval.py [--data ../shared/data] [--k 100] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import machine, write_result

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = ("crop50", "rot90", "rot180", "flip", "jpeg20", "down25", "colour", "caption")
SETTINGS: list[tuple[str, dict[str, Any]]] = [
    ("default", {}),
    ("no pixel verification", {"verify_copies": False}),
    ("windows", {"windows": True}),
    ("windows, no pixel verification", {"windows": True, "verify_copies": False}),
    ("no second scale", {"scales": False}),
    ("8 dihedral views", {"flips": True}),
    ("upright only", {"rotations": False, "scales": False}),
]


class MemoEmbedder:
    """Wraps an embedder and remembers its answers by the pixels' hash (queries repeat here)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._memo: dict[bytes, Any] = {}

    @property
    def identity(self) -> Any:
        return self.inner.identity

    def _key(self, *parts: Any) -> bytes:
        digest = hashlib.sha1()
        for part in parts:
            digest.update(
                part.tobytes() + str(part.shape).encode()
                if hasattr(part, "shape")
                else repr(part).encode()
            )
        return digest.digest()

    def describe(self, images: list[np.ndarray]) -> Any:
        from imgsim_desktop.core.model.embedder import Descriptions

        keys = [self._key("d", a) for a in images]
        missing = [i for i, k in enumerate(keys) if k not in self._memo]
        if missing:
            done = self.inner.describe([images[i] for i in missing])
            for row, i in enumerate(missing):
                layout = None if done.layout is None else done.layout[row]
                self._memo[keys[i]] = (done.index[row], done.rerank[row], layout)
        rows = [self._memo[k] for k in keys]
        layouts = [r[2] for r in rows]
        return Descriptions(
            np.stack([r[0] for r in rows]),
            np.stack([r[1] for r in rows]),
            None if any(x is None for x in layouts) else np.stack(layouts),
        )

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        return self.describe(images).index

    def project(self, rerank: np.ndarray) -> np.ndarray:
        return self.inner.project(rerank)

    def describe_windows(self, image: np.ndarray, windows: tuple) -> Any:
        key = self._key("w", image, windows)
        if key not in self._memo:
            self._memo[key] = self.inner.describe_windows(image, windows)
        return self._memo[key]


def average_precision(ranked: list[str], query: str, relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for position, name in enumerate((n for n in ranked if n != query), 1):
        if name in relevant:
            hits += 1
            total += hits / position
    return total / len(relevant)


def build_copy_bench(holidays: Path, out: Path) -> dict[str, dict[str, str]]:
    """The acceptance check's copy set (same seed and attacks), built once under ``out``."""
    from PIL import Image, ImageDraw, ImageEnhance, ImageOps

    truth_file = out / "truth.json"
    if truth_file.exists():
        return json.loads(truth_file.read_text())
    shutil.rmtree(out, ignore_errors=True)
    (out / "case").mkdir(parents=True)
    (out / "queries").mkdir()
    names = sorted(p.name for p in (holidays / "images").glob("*.jpg"))
    rng = random.Random(1126)
    originals = sorted(rng.sample(names, 100))

    def crop(im: Image.Image, frac: float) -> Image.Image:
        w, h = im.size
        cw, ch = int(w * frac**0.5), int(h * frac**0.5)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        return im.crop((x, y, x + cw, y + ch))

    def caption(im: Image.Image) -> Image.Image:
        im = im.copy()
        draw = ImageDraw.Draw(im)
        w, h = im.size
        draw.rectangle((0, int(h * 0.85), w, h), fill=(0, 0, 0))
        draw.text((8, int(h * 0.88)), "FWD: look at this!!", fill=(255, 255, 255))
        return im

    attacks = {
        "crop50": lambda im: crop(im, 0.5),
        "rot90": lambda im: im.transpose(Image.Transpose.ROTATE_90),
        "rot180": lambda im: im.transpose(Image.Transpose.ROTATE_180),
        "flip": ImageOps.mirror,
        "jpeg20": None,
        "down25": lambda im: im.resize((im.width // 4, im.height // 4), Image.LANCZOS),
        "colour": lambda im: ImageEnhance.Contrast(ImageEnhance.Color(im).enhance(0.3)).enhance(
            1.5
        ),
        "caption": caption,
    }
    truth: dict[str, dict[str, str]] = {}
    for name in names:
        if name not in originals:
            shutil.copy(holidays / "images" / name, out / "case" / name)
    for name in originals:
        shutil.copy(holidays / "images" / name, out / "queries" / name)
        image = Image.open(holidays / "images" / name).convert("RGB")
        for attack, change in attacks.items():
            target = out / "case" / f"{attack}_{name}"
            if change is None:
                image.save(target, "JPEG", quality=20)
            else:
                change(image).save(target, "JPEG", quality=90)
            truth.setdefault(name, {})[attack] = target.name
    truth_file.write_text(json.dumps(truth))
    return truth


def holidays_rows(case: Any, holidays: Path, k: int, settings: list) -> list[dict]:
    truth = json.loads((holidays / "groundtruth.json").read_text())
    rows = []
    for label, options in settings:
        for scope, extra in (("per scene", {}), ("all scenes", {"all_scenes": True})):
            aps, searched, total, times = [], [], [], []
            for query, relevant in truth.items():
                t0 = time.perf_counter()
                result = case.query(holidays / "images" / query, k=k, **options, **extra)
                times.append(time.perf_counter() - t0)
                ranked = [r.path for r in result.results]
                aps.append(average_precision(ranked, query, set(relevant)))
                searched.append(result.vectors_searched)
                total.append(result.vectors_total)
            rows.append(
                {
                    "setting": label,
                    "scope": scope,
                    **options,
                    "map": round(float(np.mean(aps)), 4),
                    "searched_share": round(float(np.sum(searched) / np.sum(total)), 4),
                    "seconds_per_query_memoised": round(float(np.median(times)), 4),
                }
            )
            print(f"holidays {label} {scope}: {rows[-1]['map']:.4f}", file=sys.stderr)
    return rows


def copy_rows(case: Any, bench: Path, truth: dict, group: dict, settings: list) -> list[dict]:
    rows = []
    for label, options in settings:
        hits: dict[str, list[bool]] = {a: [] for a in ATTACKS}
        flagged: dict[str, list[bool]] = {a: [] for a in ATTACKS}
        others = false_flags = 0
        for query, copies in sorted(truth.items()):
            result = case.query(bench / "queries" / query, k=20, **options)
            names = [r.path for r in result.results]
            copy_names = set(copies.values())
            for attack, name in copies.items():
                ranked = [n for n in names if n not in copy_names - {name}]
                hits[attack].append(bool(ranked) and ranked[0] == name)
            for record in result.results:
                attack = next((a for a, n in copies.items() if n == record.path), None)
                if attack is not None:
                    flagged[attack].append(record.near_copy)
                else:
                    others += 1
                    same_group = group.get(record.path, record.path) == group.get(query, query)
                    false_flags += record.near_copy and not same_group
        row: dict[str, Any] = {"setting": label, **options}
        for attack in ATTACKS:
            row[f"r1_{attack}"] = round(float(np.mean(hits[attack])), 3)
            row[f"flagged_{attack}"] = round(float(np.mean(flagged[attack] or [0])), 3)
        row["r1_overall"] = round(float(np.mean([h for v in hits.values() for h in v])), 4)
        row["false_near_copies"] = round(false_flags / max(1, others), 4)
        rows.append(row)
        print(f"copies {label}: R@1 {row['r1_overall']:.3f}", file=sys.stderr)
    return rows


def warm_times(case: Any, queries: list[Path], settings: list) -> list[dict]:
    """Warm query times without memoised vectors (the embedder is the real one)."""
    rows = []
    for label, options in settings:
        times = []
        for query in queries:
            t0 = time.perf_counter()
            case.query(query, k=100, **options)
            times.append(time.perf_counter() - t0)
        rows.append(
            {
                "setting": label,
                "median_ms": round(1000 * float(np.median(times)), 1),
                "p90_ms": round(1000 * float(np.percentile(times, 90)), 1),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="default setting only")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "imgsim-bench")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval.json")
    args = parser.parse_args()
    holidays = args.data / "holidays_805"
    if not holidays.is_dir():
        print(f"bench/retrieval.py: {holidays} is absent", file=sys.stderr)
        return 1
    os.environ["IMGSIM_HOME"] = tempfile.mkdtemp(prefix="imgsim-bench-home-")
    from imgsim_desktop.core import open_case
    from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
    from imgsim_desktop.core.model.scenes import bundled_head

    settings = SETTINGS[:1] if args.quick else SETTINGS
    real = EfficientNetLiteEmbedder()
    embedder = MemoEmbedder(real)
    truth = build_copy_bench(holidays, args.work / "copies")
    gt = json.loads((holidays / "groundtruth.json").read_text())
    group = {n: q for q, rel in gt.items() for n in [q, *rel]}
    with open_case(holidays / "images", embedder=embedder) as case:
        case.index()
        hol = holidays_rows(case, holidays, args.k, settings)
    with open_case(args.work / "copies" / "case", embedder=embedder) as case:
        case.index()
        copies = copy_rows(case, args.work / "copies", truth, group, settings)
    with open_case(holidays / "images", embedder=real) as case:
        sample = [holidays / "images" / q for q in sorted(gt)[::10]]
        case.query(sample[0])  # the model loaded
        warm = warm_times(
            case, sample, [s for s in settings if s[0] in ("default", "upright only")]
        )
    report = {
        "embedder": real.identity.key,
        "k": args.k,
        "holidays": hol,
        "copies": copies,
        "warm_query": warm,
        "scene15_test_accuracy": bundled_head().test_accuracy,
    }
    write_result(args.out, report, real.identity.key)
    print(
        "| setting | holidays mAP per scene | all scenes | copies R@1 | "
        + " | ".join(ATTACKS)
        + " | other photos flagged |"
    )
    print("|---|---|---|---|" + "---|" * len(ATTACKS) + "---|")
    for (label, _), copy in zip(settings, copies, strict=True):
        per, whole = (r["map"] for r in hol if r["setting"] == label)
        print(
            f"| {label} | {per:.4f} | {whole:.4f} | {copy['r1_overall']:.3f} | "
            + " | ".join(f"{copy[f'r1_{a}']:.2f} ({copy[f'flagged_{a}']:.2f})" for a in ATTACKS)
            + f" | {copy['false_near_copies']:.4f} |"
        )
    for row in warm:
        print(f"warm query, {row['setting']}: median {row['median_ms']} ms, p90 {row['p90_ms']} ms")
    print(f"scene15 test accuracy {report['scene15_test_accuracy']:.4f}; {machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
