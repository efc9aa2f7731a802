# SPDX-License-Identifier: Apache-2.0
"""Indexing on a Dask distributed cluster: shards of files go to workers, rows come back.

The indexing process stays the only writer of the catalogue and the indexes. It splits the files
to read into shards of a few hundred and submits each to the cluster; a worker reads, hashes,
decodes and embeds its shard with :func:`~imgsim_desktop.core.pipeline.analysis.analyse` (the
same code as a one-process run, with the model loaded once per worker process) and sends back
only the rows: vectors and metadata. Each shard is committed as it arrives, so a killed run
resumes with what is left; a worker lost mid-shard means the scheduler runs the shard again
elsewhere, and since only this process writes, nothing is lost or duplicated.

Workers read the evidence at the same path, or under another prefix given by ``path_map``
(``/mnt/ev1=/srv/evidence/ev1``). Anything that leaves the machine is encrypted: a ``tls://``
scheduler with the lab's CA and this client's certificate and key (Dask's own TLS support);
plain ``tcp://`` to an address other than loopback only with ``insecure``. Dask is an optional
extra (``pip install "imgsim-desktop[cluster]"``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from imgsim_desktop.core.errors import ImgsimError
from imgsim_desktop.core.evidence.casefolder import CaseFile
from imgsim_desktop.core.machine import limit_threads, worker_count
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.analysis import analyse
from imgsim_desktop.core.store.records import FileRow

EXTRA_HINT = 'pip install "imgsim-desktop[cluster]"'
#: Files per shard: at most this many, and small enough that every worker gets several.
SHARD_FILES = 256
MIN_SHARD_FILES = 16
WORKER_WAIT = 60.0
#: Embedders already built in this (worker) process, by identity key: one model load each.
_EMBEDDERS: dict[str, Embedder] = {}


class ClusterError(ImgsimError):
    """The cluster cannot be used (Dask missing, an insecure or unreachable scheduler, a worker
    with another model, a shard that failed on every worker)."""


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how to run the work.

    Attributes:
        scheduler: address of an existing scheduler (``tls://host:8786``, ``tcp://...``).
        workers: start a local cluster of this many worker processes instead.
        tls_ca_file, tls_cert, tls_key: PEM files for a ``tls://`` scheduler.
        insecure: allow plain ``tcp://`` to an address other than loopback.
        path_map: (prefix as seen here, prefix as seen by the workers) pairs.
    """

    scheduler: str | None = None
    workers: int | None = None
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    insecure: bool = False
    path_map: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Shard:
    """Files for one worker task: the case folder as the workers see it and the files' relative
    paths, sizes and times (from this process's scan)."""

    root: str
    items: tuple[tuple[bytes, int, int], ...]
    batch_size: int
    embedder_key: str


def map_path(path: str, path_map: tuple[tuple[str, str], ...]) -> str:
    """``path`` with the first matching prefix replaced (``OLD=NEW``)."""
    for old, new in path_map:
        if path == old or path.startswith(old.rstrip("/") + "/"):
            return new.rstrip("/") + path[len(old.rstrip("/")) :]
    return path


def run_shard(shard: Shard, embedder: Embedder, head: SceneHead) -> list[FileRow]:
    """Runs on a worker: the rows for the shard's files."""
    try:
        from distributed import get_worker

        limit_threads(get_worker().state.nthreads)
    except (ImportError, ValueError):  # not in a worker (tests call it directly)
        pass
    key = embedder.identity.key
    if key != shard.embedder_key:
        raise ClusterError(
            f"this worker's model is {key}, the indexing process's is {shard.embedder_key}: "
            "install the same imgsim version on every worker"
        )
    embedder = _EMBEDDERS.setdefault(key, embedder)
    root = os.fsencode(shard.root)
    items = [
        CaseFile(Path(os.fsdecode(os.path.join(root, relpath))), relpath, size, mtime)
        for relpath, size, mtime in shard.items
    ]
    rows: list[FileRow] = []
    for batch, _done in analyse(items, embedder, head, shard.batch_size):
        rows += batch
    return rows


def _is_loopback(host: str) -> bool:
    try:
        return all(
            ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None)
        )
    except (OSError, ValueError):
        return False


def _security(options: ClusterOptions) -> Any:
    from distributed.security import Security

    scheme = urlsplit(options.scheduler or "").scheme
    if scheme == "tls":
        files = (options.tls_ca_file, options.tls_cert, options.tls_key)
        if not all(files):
            raise ClusterError(
                "a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key (PEM files)"
            )
        return Security(
            tls_ca_file=options.tls_ca_file,
            tls_client_cert=options.tls_cert,
            tls_client_key=options.tls_key,
            require_encryption=True,
        )
    if scheme not in ("tcp", ""):
        raise ClusterError(
            f"unsupported scheduler address {options.scheduler!r} (tls:// or tcp://)"
        )
    host = urlsplit(options.scheduler or "").hostname or ""
    if not options.insecure and not _is_loopback(host):
        raise ClusterError(
            f"refusing plain tcp:// to {host}: evidence data would cross the network "
            "unencrypted; use a tls:// scheduler (see the README), or --insecure on a "
            "network you trust"
        )
    return None


def check_options(options: ClusterOptions) -> Any:
    """Refuse, before any work, what cannot or must not run: Dask missing, a plain tcp:// address
    off this machine without ``insecure``, a tls:// one without certificates. Returns the
    security settings to connect with."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ClusterError(f"Dask distributed is not installed: {EXTRA_HINT}") from exc
    return None if options.workers else _security(options)


def connect(options: ClusterOptions) -> tuple[Any, Callable[[], None]]:
    """A Dask client for the options, and the function that closes it (and a local cluster)."""
    security = check_options(options)
    from distributed import Client, LocalCluster

    if options.workers:
        threads = max(1, worker_count() // options.workers)
        cluster = LocalCluster(
            n_workers=options.workers,
            threads_per_worker=threads,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client, close
    try:
        client = Client(options.scheduler, security=security, timeout=WORKER_WAIT)
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot use the scheduler at {options.scheduler}: {exc}") from exc
    return client, client.close


def analyse_on_cluster(
    items: list[CaseFile],
    root: str,
    embedder: Embedder,
    head: SceneHead,
    options: ClusterOptions,
    batch_size: int,
) -> Generator[tuple[list[FileRow], int], None, None]:
    """Rows for ``items`` computed on the cluster, a shard at a time as shards complete, with how
    many files are done so far (the same protocol as ``analyse``). Closing the generator cancels
    the shards not yet done."""
    from distributed import as_completed

    client, close = connect(options)
    futures: list[Any] = []
    try:
        remote_root = map_path(root, options.path_map)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        size = max(MIN_SHARD_FILES, min(SHARD_FILES, -(-len(items) // (4 * workers))))
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            shard = Shard(
                remote_root,
                tuple((i.relpath, i.size, i.mtime_ns) for i in chunk),
                batch_size,
                embedder.identity.key,
            )
            futures.append(client.submit(run_shard, shard, embedder, head, retries=2, pure=False))
        done = 0
        for future in as_completed(futures):
            try:
                rows = future.result()
            except Exception as exc:
                raise ClusterError(
                    f"a shard failed on the cluster ({type(exc).__name__}: {exc}); "
                    "the shards done before are kept"
                ) from exc
            done += len(rows)
            yield rows, done
    finally:
        for future in futures:
            future.cancel()
        close()
