# SPDX-License-Identifier: Apache-2.0
"""Facts about the machine the engine runs on, for sizing thread pools.

A cluster worker process shares its machine with others: :func:`limit_threads` caps what
:func:`worker_count` reports to the threads the worker was given.
"""

from __future__ import annotations

import os

_limit: int | None = None


def limit_threads(count: int | None) -> None:
    """Cap :func:`worker_count` at ``count`` threads (None lifts the cap)."""
    global _limit
    _limit = None if count is None else max(1, int(count))


def worker_count() -> int:
    """Threads for decoding and inference: the CPUs this process may use (within any cap)."""
    try:
        cpus = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        cpus = max(1, os.cpu_count() or 1)
    return cpus if _limit is None else min(cpus, _limit)
