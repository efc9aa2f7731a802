# SPDX-License-Identifier: Apache-2.0
"""Scale-out bench: indexing in one process against a local Dask cluster, and archive search over
many synthetic cases in one process against the cluster.

1. index: ``imgsim index`` of N holidays photos (a read-only copy, fresh app data each time) in
   one process, then with ``--workers 2``; images per second each. On a 2-core machine one process
   already uses both cores (decode threads and torch threads), so two workers can at best match it:
   the figure shows the cost of the shards and of two models loaded, not a speed-up.
2. search: C synthetic cases of V vectors each (clustered, L2-normalised, the stored dimension,
   under the bundled embedder's identity, as ``bench/scale.py`` makes them), each a real catalogue
   with its per-scene indexes, archived into a library; then ``search_cases`` of Q holidays queries
   over the library in one process and on a local cluster of 2 workers (first run with the
   archives' manifest checks, then warm).

    python bench/cluster.py [--images 300] [--cases 100] [--vectors 10000] [--queries 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import bundled_embedder_key, write_result
from scale import SCENES, scene_sizes, scene_vectors

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _imgsim(*args: str, home: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "imgsim_desktop", *args],
        env={**os.environ, "IMGSIM_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"imgsim {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return time.perf_counter() - started


def bench_index(data: Path, scratch: Path, images: int) -> dict:
    case = scratch / "photos"
    case.mkdir()
    for path in sorted((data / "holidays_805" / "images").glob("*.jpg"))[:images]:
        shutil.copy(path, case / path.name)
        (case / path.name).chmod(stat.S_IRUSR)
    one = _imgsim("index", str(case), "--json", home=scratch / "home-one")
    two = _imgsim("index", str(case), "--workers", "2", "--json", home=scratch / "home-two")
    return {
        "images": images,
        "one_process_s": round(one, 2),
        "one_process_images_per_s": round(images / one, 1),
        "workers_2_s": round(two, 2),
        "workers_2_images_per_s": round(images / two, 1),
    }


def _synthetic_case(folder: Path, vectors: int, seed: int, key: str, library: Path) -> None:
    """A catalogue of synthetic vectors with its indexes, archived into ``library``."""
    from imgsim_desktop.core.model.scenes import bundled_head
    from imgsim_desktop.core.store.cases.archive import write_archive
    from imgsim_desktop.core.store.cases.registry import CaseInfo, ensure_info, record_run
    from imgsim_desktop.core.store.catalog import Catalog
    from imgsim_desktop.core.store.index import SceneIndexes
    from imgsim_desktop.core.store.records import STATUS_INDEXED, FileRow

    head = bundled_head()
    labels = list(head.all_labels)
    folder.mkdir(parents=True)
    catalog = Catalog(folder / "catalog.sqlite", create=True)
    dim = 256
    embedder_id = catalog.embedder_id(key, dim)
    rng = np.random.default_rng(seed)
    rows = []
    for scene, count in zip(labels, scene_sizes(vectors), strict=True):
        block = scene_vectors(SCENES.index(scene) if scene in SCENES else 15, count, dim, seed)
        for n, vector in enumerate(block):
            digest = rng.bytes(32).hex()
            rows.append(FileRow(f"{scene}/{n:06d}.jpg".encode(), 1000, 1, STATUS_INDEXED,
                                sha256=digest, scene=scene, scene_confidence=0.9, vector=vector))  # fmt: skip
    for start in range(0, len(rows), 5000):
        catalog.write_rows(rows[start : start + 5000], "2026-01-01T00:00:00Z", embedder_id)
    catalog.set_meta("last_indexed", "2026-01-01T00:00:00Z")
    SceneIndexes(folder / "indexes", key, dim).sync(catalog, labels)
    info = ensure_info(folder, Path(f"/evidence/synthetic-{seed:03d}"))
    record_run(folder, Path(info.root), catalog, "2026-01-01T00:00:00Z")
    write_archive(folder, CaseInfo(**{**info.__dict__}), library, [], [key])
    catalog.close()


def bench_search(data: Path, scratch: Path, cases: int, vectors: int, queries: int) -> dict:
    from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
    from imgsim_desktop.core.model.scenes import bundled_head
    from imgsim_desktop.core.pipeline.cases.cluster import ClusterOptions
    from imgsim_desktop.core.pipeline.cases.library import open_sources, search_cases
    from imgsim_desktop.core.pipeline.query import QuerySettings

    embedder = EfficientNetLiteEmbedder()
    key = embedder.identity.key
    library = scratch / "library"
    started = time.perf_counter()
    for n in range(cases):
        _synthetic_case(scratch / "cases" / f"c{n:03d}", vectors, n, key, library)
    build = time.perf_counter() - started
    truth = json.loads((data / "holidays_805" / "groundtruth.json").read_text())
    images = [data / "holidays_805" / "images" / q for q in sorted(truth)[:queries]]
    settings = QuerySettings(k=20)
    head = bundled_head()
    embedder.embed([np.zeros((224, 224, 3), np.uint8)])  # the model loaded before timing
    figures: dict = {"cases": cases, "vectors_per_case": vectors, "queries": queries,
                     "build_s": round(build, 1)}  # fmt: skip
    for label, options in (("one_process", None), ("cluster_2_workers", ClusterOptions(workers=2))):
        for run in ("first", "warm"):
            started = time.perf_counter()
            sources = open_sources(embedder, [], [library])
            opened = time.perf_counter() - started
            results = list(search_cases(images, sources, embedder, head, settings, options))
            sources.close()
            total = time.perf_counter() - started
            assert all(len(r.cases_searched or []) == cases for r in results)
            figures[f"{label}_{run}"] = {
                "open_and_check_s": round(opened, 2),
                "total_s": round(total, 2),
                "per_query_s": round((total - opened) / queries, 3),
            }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--vectors", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cluster.json")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="imgsim-cluster-bench-"))
    os.environ["IMGSIM_HOME"] = str(scratch / "home")
    try:
        report = {
            "index": bench_index(args.data, scratch, args.images),
            "search": bench_search(args.data, scratch, args.cases, args.vectors, args.queries),
        }
    finally:
        for path in scratch.rglob("*"):
            if not path.is_symlink():
                path.chmod(0o700 if path.is_dir() else 0o600)
        shutil.rmtree(scratch, ignore_errors=True)
    write_result(args.out, report, bundled_embedder_key())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
