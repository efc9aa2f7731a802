# SPDX-License-Identifier: Apache-2.0
"""Advisory file locks between processes working on the same case (the GUI and the CLI).

Two locks live in the case's app data folder, never in the case folder:

- ``index.lock``, held exclusively for a whole indexing run: a second indexer waits for it up to a
  timeout and then refuses with :class:`~imgsim_desktop.core.errors.CaseLockedError` naming the
  process that holds it.
- ``indexes.lock``, a reader/writer lock around the index files: writers hold it exclusively only
  while they replace files, readers share it while they load them, so a query never loads half of
  one save and half of another.

The locking itself is ``portalocker`` (``flock`` on POSIX, ``LockFileEx`` on Windows, both with a
shared and an exclusive mode, both released by the operating system when a process dies, even by
``kill -9``). The audit log takes its own lock the same way (:mod:`.work.audit`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import portalocker

from imgsim_desktop.core.errors import CaseLockedError

INDEX_LOCK = "index.lock"
FILES_LOCK = "indexes.lock"
#: How long a second indexer waits for the first before it refuses (seconds); the environment
#: variable ``IMGSIM_LOCK_WAIT`` overrides it.
DEFAULT_WAIT = 10.0
WAIT_ENV = "IMGSIM_LOCK_WAIT"
_POLL = 0.05

_SHARED = portalocker.LockFlags.SHARED | portalocker.LockFlags.NON_BLOCKING
_EXCLUSIVE = portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING


class FileLock:
    """One lock file; :meth:`acquire` polls until the lock is free or ``wait`` seconds pass.

    Attributes:
        path: the lock file.
        held: True while this object holds the lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.held = False
        self._handle: IO[bytes] | None = None

    def acquire(self, shared: bool = False, wait: float = DEFAULT_WAIT) -> bool:
        """Take the lock; False when it is still held elsewhere after ``wait`` seconds."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(self.path, "a+b")  # noqa: SIM115 - kept open while the lock is held
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                portalocker.lock(handle, _SHARED if shared else _EXCLUSIVE)
                break
            except portalocker.exceptions.LockException:
                if time.monotonic() >= deadline:
                    handle.close()
                    return False
                time.sleep(_POLL)
        self._handle, self.held = handle, True
        if not shared:
            with contextlib.suppress(OSError):  # who holds it, for the other side's message
                handle.truncate(0)
                handle.write(f"{os.getpid()}\n".encode())
                handle.flush()
        return True

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError, portalocker.exceptions.LockException):
                portalocker.unlock(self._handle)
            self._handle.close()
        self._handle, self.held = None, False

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
