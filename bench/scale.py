# SPDX-License-Identifier: Apache-2.0
"""Scale bench: N synthetic vectors over the 16 scene indexes, through the core's SceneIndex.

Three phases, so the memory figure is what the application itself needs:

1. build: vectors are generated scene by scene (seeded; never all in memory), each scene's HNSW
   index is built with the product's parameters and saved, as indexing does;
2. serve (a fresh process): the 16 saved indexes are loaded as a query does, the resident memory
   (RSS) is read from /proc, then queries run: per-scene (the query's scene plus ``other``, the
   usual search) and all scenes; latencies p50/p99 per query;
3. exact: the true top 10 of every query by brute force, streamed scene by scene, for recall@10.

The vectors imitate the stored descriptors: L2-normalised, in clusters (places photographed many
times) with a decaying spectrum, at the index dimension the embedder stores. Queries are noisy
copies of stored vectors (a near-duplicate, the investigator's usual question) and fresh samples.

    python bench/scale.py [--n 200000] [--queries 500] [--dim D] [--out bench/results/scale.json]
    python bench/scale.py --n 1000000          # the documented run (about 20 min on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import write_result

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imgsim_desktop.core.store.index import IndexParams, SceneIndex  # noqa: E402

#: Share of the images per scene (15 scenes + other), roughly as on INRIA Holidays.
SHARES = np.array([1, 14, 4, 1, 10, 5, 1, 1, 10, 1, 6, 7, 3, 2, 4, 24], dtype=np.float64)
SCENES = [f"scene{i:02d}" for i in range(15)] + ["other"]
CLUSTER_SIZE = 20


def scene_sizes(n: int) -> list[int]:
    sizes = np.floor(SHARES / SHARES.sum() * n).astype(int)
    sizes[-1] += n - sizes.sum()
    return sizes.tolist()


def _spectrum(dim: int) -> np.ndarray:
    return (1.0 / np.sqrt(1.0 + np.arange(dim) / 8.0)).astype(np.float32)


def scene_vectors(scene: int, count: int, dim: int, seed: int) -> np.ndarray:
    """Deterministic vectors of one scene: a scene direction, clusters around it, noise."""
    rng = np.random.default_rng([seed, scene])
    spectrum = _spectrum(dim)
    centre = rng.standard_normal(dim).astype(np.float32) * spectrum * 1.5
    clusters = max(1, count // CLUSTER_SIZE)
    cluster_centres = centre + rng.standard_normal((clusters, dim)).astype(np.float32) * spectrum
    members = rng.integers(0, clusters, count)
    noise = rng.standard_normal((count, dim)).astype(np.float32) * spectrum * 0.45
    vectors = cluster_centres[members] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def make_queries(n_queries: int, dim: int, seed: int, sizes: list[int]) -> tuple:
    """Half noisy copies of stored vectors, half fresh samples; with each query's scene."""
    rng = np.random.default_rng([seed, 999])
    scenes = rng.choice(len(SCENES), n_queries, p=np.array(sizes) / sum(sizes))
    queries = np.empty((n_queries, dim), dtype=np.float32)
    for scene in np.unique(scenes):
        rows = np.flatnonzero(scenes == scene)
        stored = scene_vectors(int(scene), sizes[scene], dim, seed)
        picked = stored[rng.integers(0, len(stored), len(rows))]
        noise = rng.standard_normal(picked.shape).astype(np.float32) * _spectrum(dim)
        fresh = rows % 2 == 1
        picked[fresh] = stored[rng.integers(0, len(stored), fresh.sum())] + 0.3 * noise[fresh]
        picked[~fresh] += 0.03 * noise[~fresh]
        queries[rows] = _normalise(picked)
    return queries, scenes


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _params(args: argparse.Namespace) -> IndexParams:
    return IndexParams(m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search)


def build(args: argparse.Namespace, folder: Path) -> dict:
    sizes = scene_sizes(args.n)
    started, first_id = time.monotonic(), 0
    for scene, size in enumerate(sizes):
        vectors = scene_vectors(scene, size, args.dim, args.seed)
        index = SceneIndex(folder, SCENES[scene], "bench", args.dim, _params(args))
        index.rebuild(np.arange(first_id, first_id + size, dtype=np.int64), vectors)
        index.save(generation=1)
        first_id += size
        print(f"built {SCENES[scene]}: {size} vectors", file=sys.stderr, flush=True)
    return {"build_seconds": round(time.monotonic() - started, 1), "sizes": sizes}


def serve(args: argparse.Namespace, folder: Path) -> dict:
    """Phase 2, in its own process: load, measure RSS, query."""
    sizes = scene_sizes(args.n)
    queries, query_scenes = make_queries(args.queries, args.dim, args.seed, sizes)
    baseline = rss_mb()
    started = time.monotonic()
    loaded = {}
    for scene in SCENES:
        index = SceneIndex(folder, scene, "bench", args.dim, _params(args))
        assert index.load() is not None, scene
        loaded[scene] = index
    load_seconds = time.monotonic() - started
    indexes_mb = rss_mb() - baseline
    out: dict = {"load_seconds": round(load_seconds, 1), "rss_total_mb": round(rss_mb())}
    out["rss_indexes_mb"] = round(indexes_mb)
    results = {}
    for mode in ("per_scene", "all_scenes"):
        latencies, found = [], np.full((len(queries), 10), -1, dtype=np.int64)
        for row, (query, scene) in enumerate(zip(queries, query_scenes, strict=True)):
            names = SCENES if mode == "all_scenes" else sorted({SCENES[scene], "other"})
            t0 = time.perf_counter()
            hits = [h for name in names for h in loaded[name].search(query[None, :], 10)]
            hits.sort(key=lambda h: -h.score)
            latencies.append(time.perf_counter() - t0)
            found[row, : min(10, len(hits))] = [h.id for h in hits[:10]]
        results[mode] = found
        ms = np.array(latencies) * 1000
        out[mode] = {"p50_ms": round(float(np.percentile(ms, 50)), 3)}
        out[mode]["p99_ms"] = round(float(np.percentile(ms, 99)), 3)
    np.savez(folder / "found.npz", **results)
    out["product_query"] = product_query(args, folder, loaded, queries, query_scenes)
    return out


#: A query's views as the product searches them (upright, 3 quarter turns, 9 windows).
VIEWS = 13
RERANK_DIM = 768


def _rerank_table(folder: Path, n: int, seed: int) -> Path:
    """An SQLite table shaped as the catalogue's extras, with a float16 re-ranking vector per
    id (built once per folder)."""
    import sqlite3

    path = folder / "rerank.sqlite"
    if path.exists():
        return path
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE extras (kind TEXT, id INTEGER, data BLOB, PRIMARY KEY (kind, id))")
    rng = np.random.default_rng([seed, 7])
    for start in range(0, n, 20000):
        block = rng.standard_normal((min(20000, n - start), RERANK_DIM)).astype("<f2")
        db.executemany(
            "INSERT INTO extras VALUES ('rerank', ?, ?)",
            ((start + i, row.tobytes()) for i, row in enumerate(block)),
        )
    db.commit()
    db.close()
    return path


def product_query(
    args: argparse.Namespace, folder: Path, loaded: dict, queries: np.ndarray, scenes: np.ndarray
) -> dict:
    """A warm query's search work as the product does it for a case of ``n`` images, without
    the model: every view searched (k 100) in the query's scene and ``other``, the PDQ scan of
    all ``n`` hashes with the 8 dihedral query hashes, and the exact re-ranking of the union of
    candidates with float16 vectors read from SQLite by id. The forward passes of the query's
    views are measured apart, on real pictures (``bench/retrieval.py``)."""
    import sqlite3

    from imgsim_desktop.core.model.pdq import HashMatrix
    from imgsim_desktop.core.pipeline.ranking import closest

    rng = np.random.default_rng([args.seed, 5])
    hashes = rng.integers(0, 256, (args.n, 32), dtype=np.uint8)
    matrix = HashMatrix(hashes, np.full(args.n, 100, np.uint8))
    ids = np.arange(args.n, dtype=np.int64)
    db = sqlite3.connect(_rerank_table(folder, args.n, args.seed))
    timings: dict[str, list[float]] = {"search": [], "pdq": [], "rerank": [], "total": []}
    for query, scene in list(zip(queries, scenes, strict=True))[: min(100, len(queries))]:
        views = _normalise(query + 0.05 * rng.standard_normal((VIEWS, args.dim)).astype(np.float32))
        query_hashes = [bytes(rng.integers(0, 256, 32, dtype=np.uint8)) for _ in range(8)]
        t0 = time.perf_counter()
        hits = [
            h for name in sorted({SCENES[scene], "other"}) for h in loaded[name].search(views, 100)
        ]
        t1 = time.perf_counter()
        near, _ = closest(matrix.distances(query_hashes), ids)
        t2 = time.perf_counter()
        wanted = sorted({h.id for h in hits} | set(near.tolist()))
        rows = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += db.execute(
                f"SELECT id, data FROM extras WHERE kind = 'rerank' AND id IN ({marks})", chunk
            ).fetchall()
        vectors = np.frombuffer(b"".join(d for _, d in rows), "<f2").reshape(-1, RERANK_DIM)
        (
            vectors.astype(np.float32) @ rng.standard_normal((RERANK_DIM, VIEWS)).astype(np.float32)
        ).max(1)
        t3 = time.perf_counter()
        for key, value in (
            ("search", t1 - t0),
            ("pdq", t2 - t1),
            ("rerank", t3 - t2),
            ("total", t3 - t0),
        ):
            timings[key].append(value * 1000)
    db.close()
    return {
        key: {
            "p50_ms": round(float(np.percentile(v, 50)), 1),
            "p90_ms": round(float(np.percentile(v, 90)), 1),
        }
        for key, v in timings.items()
    }


def exact(args: argparse.Namespace, folder: Path) -> dict:
    """Phase 3: brute-force top 10 per query, streamed per scene; recall@10 of each mode."""
    sizes = scene_sizes(args.n)
    queries, query_scenes = make_queries(args.queries, args.dim, args.seed, sizes)
    found = np.load(folder / "found.npz")
    out = {}
    for mode in ("per_scene", "all_scenes"):
        best_scores = np.full((len(queries), 10), -np.inf, dtype=np.float32)
        best_ids = np.zeros((len(queries), 10), dtype=np.int64)
        first_id = 0
        for scene, size in enumerate(sizes):
            use = np.ones(len(queries), bool)
            if mode == "per_scene":
                use = (query_scenes == scene) | (SCENES[scene] == "other")
            vectors = scene_vectors(scene, size, args.dim, args.seed)
            scores = queries[use] @ vectors.T
            top = np.argpartition(-scores, min(10, size - 1), axis=1)[:, :10]
            merged_s = np.concatenate([best_scores[use], np.take_along_axis(scores, top, 1)], 1)
            merged_i = np.concatenate([best_ids[use], top + first_id], 1)
            order = np.argsort(-merged_s, axis=1)[:, :10]
            best_scores[use] = np.take_along_axis(merged_s, order, 1)
            best_ids[use] = np.take_along_axis(merged_i, order, 1)
            first_id += size
        hits = [len(set(t) & set(f)) for t, f in zip(best_ids, found[mode], strict=True)]
        out[mode] = round(float(np.sum(hits) / (10 * len(queries))), 4)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--dim", type=int, default=None, help="default: the embedder's dim")
    parser.add_argument("--m", type=int, default=IndexParams.m)
    parser.add_argument("--ef-construction", type=int, default=IndexParams.ef_construction)
    parser.add_argument("--ef-search", type=int, default=IndexParams.ef_search)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None, help="folder for the index files")
    parser.add_argument("--phase", choices=["all", "serve"], default="all")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    args = parser.parse_args()
    if args.dim is None:
        from imgsim_desktop.core.model.descriptor import INDEX_DIM

        args.dim = INDEX_DIM
    folder = args.work or Path(tempfile.mkdtemp(prefix="imgsim-scale-"))
    if args.phase == "serve":
        print(json.dumps(serve(args, folder)))
        return 0
    report: dict = {
        "n": args.n,
        "dim": args.dim,
        "params": {"m": args.m, "ef_construction": args.ef_construction},
        "ef_search": args.ef_search,
        "queries": args.queries,
    }
    report.update(build(args, folder))
    cmd = [sys.executable, __file__, "--phase", "serve", "--work", str(folder)]
    for name in ("n", "queries", "dim", "m", "ef_construction", "ef_search", "seed"):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    served = subprocess.run(cmd, capture_output=True, text=True, check=True)
    report.update(json.loads(served.stdout.strip().splitlines()[-1]))
    report["recall_at_10"] = exact(args, folder)
    report["index_files_mb"] = round(sum(p.stat().st_size for p in folder.glob("*.hnsw")) / 2**20)
    write_result(args.out, report, None)  # synthetic vectors: no model
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
