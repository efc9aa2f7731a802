# SPDX-License-Identifier: Apache-2.0
"""A case's life in the window, with an embedder the test holds at a gate (no torch): Cancel
returns the index panel to idle and says what was kept; opening another case leaves nothing of
the first one in the widgets; queries run during a first index; every task ends exactly once."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from PySide6.QtCore import Qt

from imgsim_desktop.core import open_case
from imgsim_desktop.ui.tasks import TaskEnd
from tests.ui.fakes import BatchGate, GatedEmbedder, failure_lines, make_case

N_IMAGES = 90  # batches of 32, 32, 26 (never 4: a batch of 4 would look like a query)


def test_cancel_returns_the_panel_to_idle_and_says_what_was_kept(
    qtbot, make_window, tmp_path: Path
) -> None:
    case = make_case(tmp_path / "case", N_IMAGES)
    gate = BatchGate(free=1)
    embedder = GatedEmbedder(gate)
    window = make_window(embedder)
    window.open_case(case)
    assert window.index_panel.cancel.isEnabled()
    assert gate.held.wait(30)  # the first batch is committed, the second waits at the gate
    qtbot.mouseClick(window.index_panel.cancel, Qt.MouseButton.LeftButton)
    gate.opened.set()
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    text = window.index_panel.label.text()
    found = re.fullmatch(r"Cancelled: (\d+) indexed, kept; the next run continues", text)
    assert found, text
    assert not window.index_panel.pause.isEnabled()
    with open_case(case, log_open=False) as core_case:
        kept = sum(r.status == "indexed" for r in core_case.files())
    assert int(found.group(1)) == kept and 32 <= kept < N_IMAGES
    assert "indexing…" not in window.status.text()
    assert window.warnings == []

    # The next run continues: only what was not kept is embedded.
    before = embedder.embedded
    window.open_case(case)
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    assert window.index_panel.label.text().startswith(
        f"Index up to date: {N_IMAGES - kept} new, {kept} unchanged"
    )
    assert embedder.embedded - before == N_IMAGES - kept


def test_opening_another_case_leaves_nothing_of_the_first(
    qtbot, make_window, tmp_path: Path
) -> None:
    """Case A is held mid-index with a query in flight; B is opened and indexed; then A's work
    is let go. Nothing of A (progress, its end, folders, failures, results) may reach B's
    widgets."""
    case_a = make_case(tmp_path / "A" / "alpha", N_IMAGES, prefix="a", hue=200).parent
    (case_a / "alpha" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    case_b = make_case(tmp_path / "B" / "beta", 5, prefix="b").parent
    query_gate = threading.Event()
    gate = BatchGate(free=1, queries=query_gate)
    window = make_window(GatedEmbedder(gate), work_threads=4)
    shown_results: list[list[str]] = []
    window.results_shown.connect(
        lambda n: shown_results.append([window.model.record(r).path for r in range(n)])
    )

    window.open_case(case_a)
    assert gate.held.wait(30)  # the first batch is committed, the second waits at the gate
    window.run_query(case_a / "alpha" / "a000.png")  # held at the query gate
    qtbot.wait(200)

    gate.queries = None  # B's queries and batches pass; A's stay held
    gate.free = 10**6
    window.open_case(case_b)
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    qtbot.waitUntil(lambda: window.overview.images == 5, timeout=20000)
    with qtbot.waitSignal(window.results_shown, timeout=20000):
        window.run_query(case_b / "beta" / "b000.png")

    def snapshot() -> dict:
        folders = window.browser.folder_model
        return {
            "panel": window.index_panel.label.text(),
            "bar": (window.index_panel.bar.value(), window.index_panel.bar.maximum()),
            "buttons": window.index_panel.cancel.isEnabled(),
            "failures": failure_lines(window),
            "folders": folders.index(0, 0).data(),
            "subfolders": [
                folders.index(i, 0, folders.index(0, 0)).data()
                for i in range(folders.rowCount(folders.index(0, 0)))
            ],
            "results": [window.model.record(r).path for r in range(window.model.rowCount())],
            "status": window.status.text(),
            "images": window.overview.images,
        }

    settled = snapshot()
    assert settled["panel"].startswith("Index up to date: 5 new")
    assert settled["subfolders"] == ["beta"] and settled["images"] == 5
    assert all(path.startswith("beta/") for path in settled["results"])

    gate.opened.set()  # A's held batch and query now finish, after B is settled
    query_gate.set()
    qtbot.waitUntil(
        lambda: (
            window.runner.work.activeThreadCount() + window.runner.index.activeThreadCount() == 0
        ),
        timeout=30000,
    )
    qtbot.wait(300)  # whatever A's tasks emitted is delivered now
    assert snapshot() == settled
    assert all(not path.startswith("alpha/") for paths in shown_results for path in paths)
    assert str(case_a) not in window.status.text()
    assert window.warnings == []


def test_a_query_during_a_first_index_searches_what_is_indexed(
    qtbot, make_window, tmp_path: Path
) -> None:
    case = make_case(tmp_path / "case", N_IMAGES)
    gate = BatchGate(free=1)
    window = make_window(GatedEmbedder(gate))
    window.open_case(case)
    assert gate.held.wait(30)  # the first batch is committed, the second waits at the gate
    with qtbot.waitSignal(window.results_shown, timeout=20000) as shown:
        window.run_query(case / "img000.png")
    assert 0 < shown.args[0] <= 32 and window.model.record(0).path == "img000.png"
    assert "indexing continues" in window.query_pane.searched.text()
    assert "indexing…" in window.status.text()
    assert window.index_panel.cancel.isEnabled()  # nothing refused, nothing stopped
    gate.opened.set()
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    assert window.warnings == []


def test_a_query_before_the_first_batch_waits_for_it(qtbot, make_window, tmp_path: Path) -> None:
    case = make_case(tmp_path / "case", N_IMAGES)
    gate = BatchGate(free=0)  # even the first batch waits
    window = make_window(GatedEmbedder(gate))
    window.open_case(case)
    assert gate.held.wait(30)
    window.run_query(case / "img005.png")
    qtbot.wait(500)
    assert window.warnings == []  # not refused
    with qtbot.waitSignal(window.results_shown, timeout=20000):
        gate.opened.set()
    assert window.model.record(0).path == "img005.png"
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    assert window.warnings == []


def test_every_task_of_a_window_ends_exactly_once(qtbot, make_window, tmp_path: Path) -> None:
    case_a = make_case(tmp_path / "A", N_IMAGES)
    case_b = make_case(tmp_path / "B", 5, hue=90)
    gate = BatchGate(free=1)
    window = make_window(GatedEmbedder(gate), work_threads=3)
    ends: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    start = window.runner.start

    def watched(task, pool=None):
        key = id(task)
        ends[key], names[key] = [], task.name
        for end in TaskEnd:
            getattr(task.signals, end.value).connect(
                lambda _payload, key=key, e=end.value: ends[key].append(e)
            )
        return start(task, pool)

    window.runner.start = watched
    window.open_case(case_a)
    assert gate.held.wait(30)
    window.run_query(case_a / "img001.png")
    window.run_query(case_a / "img002.png")  # replaces the first
    window.open_case(case_b)  # cancels A's indexing and query
    gate.opened.set()
    qtbot.waitUntil(lambda: not window.index_panel.cancel.isEnabled(), timeout=20000)
    qtbot.waitUntil(lambda: not window.runner.running(), timeout=20000)
    qtbot.wait(200)
    assert {"index", "query", "overview", "query preview"} <= set(names.values())
    assert all(len(seen) == 1 for seen in ends.values()), {
        names[k]: seen for k, seen in ends.items() if len(seen) != 1
    }
