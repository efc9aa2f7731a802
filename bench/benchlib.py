# SPDX-License-Identifier: Apache-2.0
"""What every benchmark records with its figures: the machine, the commit, the embedder.

``write_result(path, report, embedder)`` adds a ``provenance`` block (machine, CPUs, Python,
commit and whether the work tree had uncommitted changes, the embedder identity, the UTC time)
and writes the JSON, so any figure can be traced to the code and model that made it.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def machine() -> str:
    """One line naming the machine: architecture, CPUs this process may use, Python."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    return f"{platform.machine()} {cpus} CPUs, Python {platform.python_version()}"


def provenance(embedder: str | None) -> dict[str, Any]:
    """Where a figure comes from."""
    return {
        "machine": machine(),
        "commit": _git("rev-parse", "HEAD") or "unknown",
        "work_tree_clean": _git("status", "--porcelain", "--untracked-files=no") == "",
        "embedder": embedder,
        "measured_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def write_result(path: Path, report: dict[str, Any], embedder: str | None) -> dict[str, Any]:
    """Write ``report`` with its provenance as JSON to ``path``; returns what was written."""
    data = {"provenance": provenance(embedder), **report}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data


def bundled_embedder_key() -> str:
    """The identity key of the embedder the product uses (its weights are hashed, not loaded)."""
    from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder

    return EfficientNetLiteEmbedder().identity.key
