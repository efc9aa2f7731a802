# SPDX-License-Identifier: Apache-2.0
"""What a fresh query reads: only the indexes of the scenes it searches, checked against the
catalogue by SQLite's count and sums of their ids (not a million ids read out); an index whose
ids disagree is still rebuilt."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from imgsim_desktop.core import case as case_module
from imgsim_desktop.core import open_case
from imgsim_desktop.core.model.scenes import OTHER
from imgsim_desktop.core.store import index as index_module
from imgsim_desktop.core.store.catalog import Catalog, ids_digest
from tests.conftest import FIXTURES
from tests.core.fakes import FakeEmbedder, fake_head

STORED: dict[str, set[str]] = {}


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    case_dir = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case_dir)
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        STORED[str(case_dir)] = set(case.index().scenes)
    return case_dir


def _spy(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Record the indexes loaded and the scenes whose ids are read out, in a process that holds
    no loaded indexes yet (as a fresh ``imgsim query``)."""
    monkeypatch.setattr(case_module, "_QUERY_INDEXES", {})
    loaded: list[str] = []
    listed: list[str] = []
    real_load, real_ids = index_module.SceneIndex.load, Catalog.scene_ids

    def load(self):  # type: ignore[no-untyped-def]
        loaded.append(self.scene)
        return real_load(self)

    def scene_ids(self, scene, embedder_id):  # type: ignore[no-untyped-def]
        listed.append(scene)
        return real_ids(self, scene, embedder_id)

    monkeypatch.setattr(index_module.SceneIndex, "load", load)
    monkeypatch.setattr(Catalog, "scene_ids", scene_ids)
    return loaded, listed


def test_a_fresh_query_loads_the_scenes_it_searches_and_reads_no_ids(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = STORED[str(indexed)]
    assert len(stored) >= 3  # the fixtures fill several scenes
    loaded, listed = _spy(monkeypatch)
    with open_case(indexed, embedder=FakeEmbedder(), head=fake_head()) as case:
        result = case.query(indexed / "scene0_a.jpg", k=5)
    searched = set(result.scenes_searched) & stored
    assert searched and searched != stored
    assert sorted(loaded) == sorted(searched)
    assert listed == []  # the saved indexes matched the catalogue by count and sums
    assert result.results[0].path == "scene0_a.jpg"


def test_an_index_whose_ids_disagree_is_still_rebuilt(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_case(indexed, embedder=FakeEmbedder(), head=fake_head()) as case:
        plain = [(r.path, round(r.score, 5)) for r in case.query(indexed / "scene0_a.jpg").results]
        data_dir = case.data_dir
    # Ids of the same count and sum, but not the catalogue's: only the hashed sum tells.
    ids = np.array([3, 5], np.int64)
    assert ids_digest(ids)[:2] == ids_digest(np.array([2, 6], np.int64))[:2]
    assert ids_digest(ids) != ids_digest(np.array([2, 6], np.int64))
    loaded, listed = _spy(monkeypatch)
    for path in (data_dir / "indexes").glob("*.ids.npy"):
        path.write_bytes(path.read_bytes())  # a new status stamp: fully checked, still intact
    real_digest = index_module.ids_digest

    def wrong(found: np.ndarray) -> tuple[int, int, int]:
        count, total, hashed = real_digest(found)
        return count, total, hashed + 1  # as if the index held other ids

    monkeypatch.setattr(index_module, "ids_digest", wrong)
    with open_case(indexed, embedder=FakeEmbedder(), head=fake_head()) as case:
        again = [(r.path, round(r.score, 5)) for r in case.query(indexed / "scene0_a.jpg").results]
    assert listed and sorted(listed) == sorted(loaded)  # read out, then rebuilt
    assert again == plain


def test_the_other_index_loads_while_the_query_is_embedded(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``other`` (every query searches it) is synced on a thread of its own as soon as the query
    starts, so a fresh process loads it while the model loads and the query is embedded."""
    monkeypatch.setattr(case_module, "_QUERY_INDEXES", {})
    started = threading.Event()
    real_digest = Catalog.scene_ids_digest

    def digest(self, scene, embedder_id):  # type: ignore[no-untyped-def]
        if scene == OTHER:
            started.set()
        return real_digest(self, scene, embedder_id)

    monkeypatch.setattr(Catalog, "scene_ids_digest", digest)
    seen_during_embedding: list[bool] = []

    class Slow(FakeEmbedder):
        def describe(self, images):  # type: ignore[no-untyped-def]
            seen_during_embedding.append(started.wait(5))
            return super().describe(images)

    with open_case(indexed, embedder=Slow(), head=fake_head()) as case:
        result = case.query(indexed / "scene0_a.jpg", k=5)
    assert seen_during_embedding and seen_during_embedding[0]  # before the first forward pass ended
    assert result.results[0].path == "scene0_a.jpg"


def test_a_warm_query_starts_no_loading_thread(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once ``other`` is loaded in this process, a query starts no thread (and opens no second
    catalogue connection) to load it again: its own sync has only the changes to read."""
    monkeypatch.setattr(case_module, "_QUERY_INDEXES", {})
    loads: list[str] = []
    real_load = case_module.Case._load_other

    def load_other(self, indexes):  # type: ignore[no-untyped-def]
        loads.append(threading.current_thread().name)
        return real_load(self, indexes)

    monkeypatch.setattr(case_module.Case, "_load_other", load_other)
    with open_case(indexed, embedder=FakeEmbedder(), head=fake_head()) as case:
        first = case.query(indexed / "scene0_a.jpg", k=5)
        second = case.query(indexed / "scene0_a.jpg", k=5)
        assert loads == ["imgsim-prefetch"]
        shutil.copy(indexed / "scene0_a.jpg", indexed / "scene0_a_again.jpg")
        case.index()  # the catalogue moves on: the next query loads again, beside the model
        case.query(indexed / "scene0_a.jpg", k=5)
    assert loads == ["imgsim-prefetch", "imgsim-prefetch"]
    assert [r.path for r in second.results] == [r.path for r in first.results]
