# SPDX-License-Identifier: Apache-2.0
"""Advisory file locks between processes working on the same case (the GUI and the CLI).

Two locks live in the case's app data folder, never in the case folder:

- ``index.lock``, held exclusively for a whole indexing run: a second indexer waits for it up to a
  timeout and then refuses with :class:`~imgsim_desktop.core.errors.CaseLockedError` naming the
  process that holds it.
- ``indexes.lock``, a reader/writer lock around the index files: writers hold it exclusively only
  while they replace files, readers share it while they load them, so a query never loads half of
  one save and half of another.

POSIX uses ``fcntl.flock`` (released by the kernel when a process dies, even by ``kill -9``);
Windows uses ``msvcrt.locking`` on the first byte, which has no shared mode, so there readers
exclude each other briefly too.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from imgsim_desktop.core.errors import CaseLockedError

INDEX_LOCK = "index.lock"
FILES_LOCK = "indexes.lock"
#: How long a second indexer waits for the first before it refuses (seconds); the environment
#: variable ``IMGSIM_LOCK_WAIT`` overrides it.
DEFAULT_WAIT = 10.0
WAIT_ENV = "IMGSIM_LOCK_WAIT"
_POLL = 0.05

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int, shared: bool) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int, shared: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """One lock file; :meth:`acquire` polls until the lock is free or ``wait`` seconds pass.

    Attributes:
        path: the lock file.
        held: True while this object holds the lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.held = False
        self._fd: int | None = None

    def acquire(self, shared: bool = False, wait: float = DEFAULT_WAIT) -> bool:
        """Take the lock; False when it is still held elsewhere after ``wait`` seconds."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + max(0.0, wait)
        while not _try_lock(fd, shared):
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(_POLL)
        self._fd, self.held = fd, True
        if not shared:
            with contextlib.suppress(OSError):  # who holds it, for the other side's message
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"{os.getpid()}\n".encode())
        return True

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                _unlock(self._fd)
            os.close(self._fd)
        self._fd, self.held = None, False

    def holder(self) -> str:
        """The process id written by the current exclusive holder ('' when unknown)."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""


def default_wait() -> float:
    """Seconds a second indexer waits: ``IMGSIM_LOCK_WAIT`` or :data:`DEFAULT_WAIT`."""
    try:
        return float(os.environ.get(WAIT_ENV, DEFAULT_WAIT))
    except ValueError:
        return DEFAULT_WAIT


@contextlib.contextmanager
def indexing_lock(data_dir: Path, wait: float | None = None) -> Iterator[FileLock]:
    """Hold the case's indexing lock, or raise CaseLockedError after ``wait`` seconds."""
    wait = default_wait() if wait is None else wait
    lock = FileLock(data_dir / INDEX_LOCK)
    if not lock.acquire(wait=wait):
        holder = lock.holder()
        raise CaseLockedError(
            f"the case is being indexed by another imgsim process"
            f"{f' (pid {holder})' if holder else ''}; waited {wait:g} s. "
            "Try again when it has finished."
        )
    try:
        yield lock
    finally:
        lock.release()


@contextlib.contextmanager
def files_lock(data_dir: Path, shared: bool, wait: float = 120.0) -> Iterator[None]:
    """Hold the index files' reader/writer lock (shared to load, exclusive to replace)."""
    lock = FileLock(data_dir / FILES_LOCK)
    if not lock.acquire(shared=shared, wait=wait):
        raise CaseLockedError("the case's index files stayed locked by another process")
    try:
        yield
    finally:
        lock.release()
