# SPDX-License-Identifier: Apache-2.0
"""Facts about the machine the engine runs on, for sizing thread pools."""

from __future__ import annotations

import os


def worker_count() -> int:
    """Threads for decoding and inference: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
