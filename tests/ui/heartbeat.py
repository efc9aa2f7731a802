# SPDX-License-Identifier: Apache-2.0
"""A 10 ms QTimer heartbeat on the GUI thread, and a watchdog that names what ran when it was late.

The watchdog (a Python thread) samples every thread's stack when a beat is more than ``late_s``
overdue: since it needs the GIL itself, it sees where the other threads are once the GIL is free
again, usually just past what held it. The samples go into a failing test's message.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import traceback

from PySide6.QtCore import QTimer


class Heartbeat:
    """Beats every ``interval_ms``; ``gaps()`` between beats; ``stalls`` the stacks seen."""

    def __init__(self, interval_ms: int = 10, late_s: float = 0.08) -> None:
        self.ticks: list[float] = []
        self.stalls: list[tuple[float, str]] = []
        self.marks: dict[str, float] = {}
        self._late_s = late_s
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self._stop = threading.Event()
        self._watch = threading.Thread(
            target=self._watchdog, name="heartbeat-watchdog", daemon=True
        )

    def start(self) -> None:
        self.ticks.append(time.perf_counter())
        self._timer.start()
        self._watch.start()

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()
        self._watch.join(5)

    def mark(self, name: str) -> None:
        """Note when something happened (to place the gaps)."""
        self.marks[name] = time.perf_counter()

    def gaps(self) -> list[float]:
        return [b - a for a, b in itertools.pairwise(self.ticks)]

    def worst(self) -> tuple[float, float]:
        """(the longest gap, when it began, in seconds from the start)."""
        gap, at = max((b - a, a) for a, b in itertools.pairwise(self.ticks))
        return gap, at - self.ticks[0]

    def report(self, limit: int = 4) -> str:
        """The phases and the stacks seen during the longest stalls."""
        start = self.ticks[0]
        lines = [f"marks: { {k: round(v - start, 2) for k, v in self.marks.items()} }"]
        for at, stacks in sorted(self.stalls, key=lambda s: -len(s[1]))[:limit]:
            lines.append(f"--- late beat at {at - start:.2f} s\n{stacks}")
        return "\n".join(lines)

    def _watchdog(self) -> None:
        me, seen = threading.get_ident(), 0.0
        main = threading.main_thread().ident
        while not self._stop.wait(0.005):
            last = self.ticks[-1]
            if time.perf_counter() - last > self._late_s and last != seen:
                seen = last
                frames = sys._current_frames()
                text = "".join(
                    f"[{'GUI' if tid == main else tid}]\n"
                    + "".join(traceback.format_stack(f, limit=5))
                    for tid, f in frames.items()
                    if tid != me
                )
                self.stalls.append((last, text))
