# SPDX-License-Identifier: Apache-2.0
"""Indexing on a Dask cluster (a LocalCluster on loopback): the same catalogue as one process,
a worker killed mid-shard loses and duplicates nothing, and the cluster's security holds."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imgsim_desktop.core import open_case
from imgsim_desktop.core.pipeline.cases.cluster import ClusterError, ClusterOptions, map_path
from tests.conftest import FIXTURES
from tests.core.fakes import FakeEmbedder, fake_head
from tests.core.test_kill import _make_files

distributed = pytest.importorskip("distributed", reason="Dask distributed (the [cluster] extra)")


class DyingOnceEmbedder(FakeEmbedder):
    """Kills its worker process the first time it embeds (a worker lost mid-shard)."""

    def __init__(self, marker: str) -> None:
        super().__init__("-dying")  # its own identity: workers cache embedders by identity
        self.marker = marker

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        if not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)  # no clean-up, as a crash or an unplugged workstation
        return super().embed(images)


def _catalogue(case_dir: Path, embedder: FakeEmbedder) -> dict[str, tuple]:
    with open_case(case_dir, embedder=embedder, head=fake_head()) as case:
        records = {r.path: r for r in case.files()}
        catalog = case._open_catalog(create=False)
        indexed = [r for r in records.values() if r.status == "indexed"]
        vectors = catalog.vectors(np.array([r.id for r in indexed]), embedder.identity.dim)
    by_path = {r.path: tuple(np.round(v, 5)) for r, v in zip(indexed, vectors, strict=True)}
    return {
        path: (r.sha256, r.md5, r.scene, r.status, r.error, by_path.get(path))
        for path, r in records.items()
    }


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local


def test_a_cluster_gives_the_same_catalogue_as_one_process(tmp_path: Path, cluster) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case_dir)
    _make_files(case_dir / "more", range(60))
    (case_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    embedder = FakeEmbedder()
    with open_case(case_dir, embedder=embedder, head=fake_head()) as case:
        one = case.index()
    expected = _catalogue(case_dir, embedder)
    shutil.rmtree(case.data_dir)
    options = ClusterOptions(scheduler=cluster.scheduler_address)
    with open_case(case_dir, embedder=embedder, head=fake_head()) as case:
        summary = case.index(cluster=options)
    assert (summary.indexed, len(summary.failed)) == (one.indexed, len(one.failed))
    assert _catalogue(case_dir, embedder) == expected
    assert embedder.embedded == one.indexed  # this process embedded nothing for the cluster


def test_a_worker_lost_mid_shard_loses_and_duplicates_nothing(tmp_path: Path, cluster) -> None:
    case_dir = tmp_path / "case"
    names = _make_files(case_dir, range(80))
    embedder = DyingOnceEmbedder(str(tmp_path / "died"))
    options = ClusterOptions(scheduler=cluster.scheduler_address)
    with open_case(case_dir, embedder=embedder, head=fake_head()) as case:
        summary = case.index(cluster=options)
        records = [r.path for r in case.files()]
    assert (tmp_path / "died").exists(), "no worker died"
    assert int((tmp_path / "died").read_text()) != os.getpid()  # a worker, not this process
    assert summary.indexed == len(names) and summary.failed == []
    assert sorted(records) == names  # every file exactly once


def test_plain_tcp_off_this_machine_is_refused_without_insecure(tmp_path: Path) -> None:
    case_dir = Path(shutil.copytree(FIXTURES / "case", tmp_path / "case"))
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        with pytest.raises(ClusterError, match="unencrypted; use a tls:// scheduler"):
            case.index(cluster=ClusterOptions(scheduler="tcp://192.0.2.10:8786"))
        with pytest.raises(ClusterError, match="needs --tls-ca-file, --tls-cert and --tls-key"):
            case.index(cluster=ClusterOptions(scheduler="tls://192.0.2.10:8786"))
        assert not case.is_indexed  # refused before anything was read or written


def test_without_dask_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    case_dir = Path(shutil.copytree(FIXTURES / "case", tmp_path / "case"))
    with (
        open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case,
        pytest.raises(ClusterError, match=r'pip install "imgsim-desktop\[cluster\]"'),
    ):
        case.index(cluster=ClusterOptions(workers=2))


def test_path_map() -> None:
    pairs = (("/mnt/ev1", "/srv/ev/ev1"), ("E:", "/data/e"))
    assert map_path("/mnt/ev1", pairs) == "/srv/ev/ev1"
    assert map_path("/mnt/ev1/sub", pairs) == "/srv/ev/ev1/sub"
    assert map_path("/mnt/ev10", pairs) == "/mnt/ev10"


def _certificates(folder: Path) -> dict[str, str]:
    """A CA and one certificate it signed, for 127.0.0.1 (openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    run("req", "-nodes", "-newkey", "rsa:2048", "-subj", "/CN=127.0.0.1",
        "-keyout", "node.key", "-out", "node.csr")  # fmt: skip
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "node.pem")  # fmt: skip
    return {name: str(folder / name) for name in ("ca.pem", "node.pem", "node.key")}


def _tls_talks(address: str, ca: str, cert: tuple[str, str] | None = None) -> bool:
    """Whether a TLS client trusting ``ca`` (with ``cert`` or none) gets a session that the
    scheduler keeps open (it refuses clients without a certificate of the lab's CA)."""
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = False
    if cert:
        context.load_cert_chain(*cert)
    try:
        with (
            socket.create_connection((host, int(port)), timeout=5) as raw,
            context.wrap_socket(raw) as tls,
        ):
            tls.settimeout(1.0)
            try:
                return tls.recv(1) != b""  # TLS 1.3 reports a refused certificate on read
            except TimeoutError:
                return True  # connected and waiting for us to speak: accepted
    except (ssl.SSLError, ConnectionError):
        return False


def test_a_tls_scheduler_refuses_a_client_without_a_certificate(tmp_path: Path) -> None:
    from distributed.security import Security

    pem = _certificates(tmp_path)
    security = Security(
        tls_ca_file=pem["ca.pem"],
        tls_scheduler_cert=pem["node.pem"], tls_scheduler_key=pem["node.key"],
        tls_worker_cert=pem["node.pem"], tls_worker_key=pem["node.key"],
        tls_client_cert=pem["node.pem"], tls_client_key=pem["node.key"],
        require_encryption=True,
    )  # fmt: skip
    with distributed.LocalCluster(
        n_workers=1, processes=False, protocol="tls", host="127.0.0.1", security=security,
        dashboard_address=None,
    ) as local:  # fmt: skip
        address = local.scheduler_address
        assert address.startswith("tls://")
        assert not _tls_talks(address, pem["ca.pem"])  # no client certificate: refused
        assert _tls_talks(address, pem["ca.pem"], (pem["node.pem"], pem["node.key"]))
        case_dir = Path(shutil.copytree(FIXTURES / "case", tmp_path / "case"))
        options = ClusterOptions(
            scheduler=address, tls_ca_file=pem["ca.pem"], tls_cert=pem["node.pem"],
            tls_key=pem["node.key"],
        )  # fmt: skip
        with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
            assert case.index(cluster=options).indexed == 13


def test_archived_cases_searched_on_the_cluster_rank_as_here(tmp_path: Path, cluster) -> None:
    from imgsim_desktop.core.pipeline.cases.library import open_sources, search_cases
    from imgsim_desktop.core.pipeline.query import QuerySettings

    library = tmp_path / "library"
    for name, source in (("A", FIXTURES / "case"), ("B", None)):
        folder = tmp_path / name
        if source is None:
            _make_files(folder, range(30))
        else:
            shutil.copytree(source, folder)
        with open_case(folder, embedder=FakeEmbedder(), head=fake_head()) as case:
            case.index()
            case.archive(library)
    images = [tmp_path / "A" / "scene0_a.jpg", tmp_path / "B" / "dir4" / "img0004.png"]
    settings = QuerySettings(k=12, all_scenes=True)
    embedder = FakeEmbedder()
    sources = open_sources(embedder, [], [library])
    here = list(search_cases(images, sources, embedder, fake_head(), settings))
    options = ClusterOptions(scheduler=cluster.scheduler_address)
    there = list(search_cases(images, sources, embedder, fake_head(), settings, options))
    sources.close()
    for a, b in zip(here, there, strict=True):
        assert [(r.case_id, r.path, round(r.score, 5)) for r in a.results] == [
            (r.case_id, r.path, round(r.score, 5)) for r in b.results
        ]
        assert [r.rank for r in b.results] == list(range(1, 13))
        assert (a.vectors_searched, a.vectors_total) == (b.vectors_searched, b.vectors_total)
        checked = {(r.case_id, r.path) for r in a.results if r.copy_correlation is not None}
        assert checked == {(r.case_id, r.path) for r in b.results if r.copy_correlation is not None}
        assert checked  # the pixel check ran (here, on the merged results)


def test_workers_keep_the_archives_open_between_queries(tmp_path: Path, cluster) -> None:
    from distributed import Client

    from imgsim_desktop.core.pipeline.cases import worker_archives
    from imgsim_desktop.core.pipeline.cases.library import open_sources, search_cases
    from imgsim_desktop.core.pipeline.query import QuerySettings

    library = tmp_path / "library"
    for name, numbers in (("C", range(8)), ("D", range(8, 16))):
        _make_files(tmp_path / name, numbers)
        with open_case(tmp_path / name, embedder=FakeEmbedder(), head=fake_head()) as case:
            case.index()
            case.archive(library)
    embedder = FakeEmbedder()
    sources = open_sources(embedder, [], [library])
    options = ClusterOptions(scheduler=cluster.scheduler_address)
    image = tmp_path / "C" / "dir0" / "img0000.jpg"
    settings = QuerySettings(k=5, all_scenes=True)

    def kept() -> list[str]:
        return sorted(key[0] for key in worker_archives._open)

    with Client(cluster.scheduler_address) as client:
        client.run(worker_archives.close_all)
        first = list(search_cases([image], sources, embedder, fake_head(), settings, options))
        after_first = [p for found in client.run(kept).values() for p in found]
        again = list(
            search_cases([image, image], sources, embedder, fake_head(), settings, options)
        )
        after_again = [p for found in client.run(kept).values() for p in found]
    sources.close()
    archives = sorted(str(p) for p in library.iterdir())
    assert sorted(after_first) == archives  # each archive opened once, on one worker, and kept
    assert sorted(after_again) == archives  # and not opened again for the next queries
    for result in again:
        assert [r.path for r in result.results] == [r.path for r in first[0].results]
