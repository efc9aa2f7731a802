# SPDX-License-Identifier: Apache-2.0
"""How fast a big known-file hash set imports and how fast files are looked up in it.

Writes a list of ``--n`` random hashes (default a million MD5 lines, the shape of an NSRL or
lab export; ``--kind sha256`` for SHA-256), imports it with ``imgsim hashset import`` as a fresh
process (what a user waits for; wall and CPU time, the latter less sensitive to other work on a
shared machine), then, in one process, looks up 20 (a query's results) and
10,000 files (a listing) by their three digests as queries and ``imgsim files`` do. Everything
happens in a temporary folder; results go to ``bench/results/hashset_import.json``.

    python bench/hashset_import.py [--n 1000000] [--kind md5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import write_result

ROOT = Path(__file__).resolve().parents[1]
BYTES = {"md5": 16, "sha1": 20, "sha256": 32}


def write_list(path: Path, n: int, kind: str, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    size = BYTES[kind]
    lines = [rnd.randbytes(size).hex().upper() for _ in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return lines


def lookups(home: Path, known: list[str], count: int) -> float:
    """Seconds to look up ``count`` files (half of them known) by MD5, SHA-1 and SHA-256."""
    os.environ["IMGSIM_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    from imgsim_desktop.core.store.known.hashsets import KnownFiles

    rows = []
    for i in range(count):
        seed = str(i).encode()
        md5 = known[i].lower() if i % 2 else hashlib.md5(seed).hexdigest()
        rows.append((md5, hashlib.sha1(seed).hexdigest(), hashlib.sha256(seed).hexdigest()))
    started = time.perf_counter()
    with KnownFiles.open() as sets:
        answers = sets.match_many(rows)
    seconds = time.perf_counter() - started
    assert sum(a is not None for a in answers) == count // 2
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=sorted(BYTES), default="md5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imgsim-hashset-bench-") as tmp:
        work = Path(tmp)
        listing = work / "known.txt"
        known = write_list(listing, args.n, args.kind)
        home = work / "home"
        env = {**os.environ, "IMGSIM_HOME": str(home), "PYTHONPATH": str(ROOT)}
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "imgsim_desktop", "hashset", "import", str(listing),
             "--name", "bench", "--json"],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        wall = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        info = json.loads(done.stdout)
        stored = sum(p.stat().st_size for p in (home / "hashsets").glob("*.sqlite"))
        result = {
            "lines": args.n,
            "kind": args.kind,
            "file_mb": round(listing.stat().st_size / 1e6, 1),
            "entries": info["entries"],
            "import_seconds_fresh_process": round(wall, 2),
            "import_seconds_in_core": info["seconds"],
            "import_cpu_seconds_fresh_process": round(cpu, 2),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "stored_mb": round(stored / 1e6, 1),
            "lookup_ms_20_files": round(lookups(home, known, 20) * 1000, 2),
            "lookup_ms_10000_files": round(lookups(home, known, 10_000) * 1000, 1),
        }
    print(json.dumps(result, indent=2))
    write_result(ROOT / "bench" / "results" / "hashset_import.json", result, None)  # no model


if __name__ == "__main__":
    main()
