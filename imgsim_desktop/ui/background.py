# SPDX-License-Identifier: Apache-2.0
"""How bulk background work runs beside the GUI thread without stalling it.

Large results (a failure list of 200,000 lines, a folder tree) are also freed off the GUI thread
once they are replaced (:func:`release_off_gui_thread`): freeing a few hundred thousand objects
takes tens of milliseconds with the GIL held.

Worker threads share the GIL with the GUI thread, so whatever holds the GIL for long on a worker
is a stall of the window. Measured with a 10 ms heartbeat while a case of 200,000 unreadable
files was indexed (2 cores under load), two things made the stalls of 200-900 ms:

- **full garbage collections** (generation 2) run by whichever thread allocates: the indexer's
  hundreds of thousands of live objects made each one take 50-500 ms, with the GIL held. While
  bulk work runs (:func:`bulk_work`), automatic full collections are deferred (the youngest
  generations are still collected, which is quick); the usual thresholds come back when the last
  bulk task ends, by then its objects are freed (reference counting frees them, not the cycle
  collector);
- **the operating system's scheduler**: after a worker drops the GIL, the GUI thread must get a
  CPU before another worker takes it back. The indexing thread runs at a lower priority
  (:func:`lower_this_thread`; on Linux ``nice`` +5, which the decoding threads it starts inherit),
  so that the GUI thread, which sleeps most of the time, is scheduled first. It only matters when
  the CPUs are busy.

- **how long a thread waits for the GIL**: a thread that wants the GIL waits for the switch
  interval (5 ms by default) before it asks the holder to drop it, and then races every other
  waiting thread for it; with the indexer and its decoding threads all waiting too, the GUI
  thread lost several rounds in a row now and then. While bulk work runs the interval is 1 ms
  (:data:`BULK_SWITCH_INTERVAL_S`), so each lost round costs a fifth as much.

With the first two, the worst gap fell from 300-900 ms to about 100 ms under the same load
(``tests/ui/test_many_files.py``); with the shorter switch interval, back to back at load
average 4: 73 and 75 ms against 125 and 127 ms with the default interval.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
from collections.abc import Iterator

#: How much lower the indexing thread's priority is (Linux ``nice`` increment).
NICE_INCREMENT = 5
#: Generation-2 threshold while bulk work runs: in effect, no automatic full collection.
DEFERRED_FULL_COLLECTIONS = 1_000_000
#: The interpreter's switch interval while bulk work runs (seconds; CPython's default is 0.005).
BULK_SWITCH_INTERVAL_S = 0.001

_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] | None = None
_saved_switch: float | None = None


@contextlib.contextmanager
def bulk_work() -> Iterator[None]:
    """Defer automatic full garbage collections and shorten the switch interval while this
    (and any other bulk task) runs."""
    global _running, _saved, _saved_switch
    with _lock:
        _running += 1
        if _running == 1:
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], DEFERRED_FULL_COLLECTIONS)
            _saved_switch = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_switch, BULK_SWITCH_INTERVAL_S))
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
            if _running == 0 and _saved_switch is not None:
                sys.setswitchinterval(_saved_switch)
                _saved_switch = None


def release_off_gui_thread(*objects: object) -> None:
    """Drop the caller's last references to ``objects`` on a pool thread (the caller must hold
    no other reference once this returns)."""
    if not any(objects):
        return
    from PySide6.QtCore import QThreadPool

    box = list(objects)
    QThreadPool.globalInstance().start(box.clear)


def deferring() -> bool:
    """True while bulk work defers full collections."""
    return _running > 0


def lower_this_thread() -> bool:
    """Lower the calling thread's scheduling priority below the process's (once; for good, so
    use it on a thread of its own); True when it is lower."""
    if sys.platform.startswith("linux"):
        try:
            target = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + NICE_INCREMENT)
            native = threading.get_native_id()
            if os.getpriority(os.PRIO_PROCESS, native) < target:
                os.setpriority(os.PRIO_PROCESS, native, target)
        except OSError:
            return False
        return True
    from PySide6.QtCore import QThread

    thread = QThread.currentThread()
    if thread is None:
        return False
    thread.setPriority(QThread.Priority.LowPriority)
    return True
