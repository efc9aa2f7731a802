# SPDX-License-Identifier: Apache-2.0
""" "Search past cases" in the query pane (issue 11): the query runs over every case this user has
indexed and the archived cases of the library folders; result tiles name their case; a case whose
evidence is not mounted shows the thumbnails kept in its archive; a file of another case cannot be
marked from here. The window is rendered to PNG (see ``test_near_copy_view.save_shot``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from imgsim_desktop.core import open_case
from imgsim_desktop.core.paths import app_cache_dir, case_data_dir
from imgsim_desktop.ui.results.model import MARK_INCLUDE, CaseRole, MarkRole
from imgsim_desktop.ui.results.thumbnails import ThumbOrigin
from tests.ui.fakes import GatedEmbedder, make_case
from tests.ui.test_near_copy_view import save_shot


def index(case: Path) -> None:
    with open_case(case, embedder=GatedEmbedder()) as opened:
        opened.index()


def test_search_past_cases_names_cases_and_shows_archived_thumbnails(
    qtbot, make_window, tmp_path: Path
) -> None:
    open_one = make_case(tmp_path / "alpha_case", 6, prefix="a", hue=0)
    archived = make_case(tmp_path / "beta_case", 6, prefix="b", hue=120)
    index(open_one)
    index(archived)
    library = tmp_path / "library"
    with open_case(archived, embedder=GatedEmbedder()) as opened:
        opened.archive(library)
    # beta is now known only by its archive: its data and its evidence are gone from here, and
    # no thumbnail of it is in the disk cache.
    shutil.rmtree(case_data_dir(archived))
    query = tmp_path / "query.png"
    shutil.copy(archived / "b000.png", query)
    shutil.rmtree(archived)
    shutil.rmtree(app_cache_dir() / "thumbs", ignore_errors=True)

    window = make_window(GatedEmbedder())
    with qtbot.waitSignal(window.overview_shown, timeout=60000):
        window.open_case(open_one)
    if window.session.indexing:
        qtbot.waitSignal(window.session.index_ended, timeout=60000).wait()

    pane = window.query_pane
    pane.set_library_folders([library])
    pane.past_cases.setChecked(True)
    with qtbot.waitSignal(window.results_shown, timeout=60000):
        window.run_query(query)
    model = window.model
    rows = [model.record(r) for r in range(model.rowCount())]
    cases = {model.index(r).data(CaseRole) for r in range(model.rowCount())}
    assert cases == {"alpha_case", "beta_case"}
    assert rows[0].case_id is not None and rows[0].path == "b000.png"  # the copy, from beta
    assert "2 cases" in pane.searched.text()
    assert not window.export_action.isEnabled()  # a report is of one case

    beta_rows = [r for r, rec in enumerate(rows) if rec.case.endswith("beta_case")]
    qtbot.waitUntil(
        lambda: all(model.request(r).key in window.thumbnails.origins for r in beta_rows),
        timeout=20000,
    )
    assert {window.thumbnails.origins[model.request(r).key] for r in beta_rows} == {
        ThumbOrigin.ARCHIVE
    }
    assert "kept when the case was archived" in model.index(beta_rows[0]).data(0x03)
    qtbot.waitUntil(lambda: model.loaded_count() == len(rows), timeout=20000)
    save_shot(window, tmp_path, "past_cases.png")

    # A file of another case: shown with its case, not markable or notable here.
    window.view.setCurrentIndex(window.proxy.index(0, 0))
    assert window.detail.facts["Case"].text().endswith("beta_case")
    assert not window.detail.note.isEnabled()
    window._toggle_mark(0, MARK_INCLUDE)
    assert window.proxy.index(0, 0).data(MarkRole) is None
    alpha = next(r for r, rec in enumerate(rows) if rec.case.endswith("alpha_case"))
    proxy_row = window.proxy.mapFromSource(model.index(alpha)).row()
    window.view.setCurrentIndex(window.proxy.index(proxy_row, 0))
    assert window.detail.note.isEnabled()  # the open case's file
    window._toggle_mark(proxy_row, MARK_INCLUDE)
    assert window.proxy.index(proxy_row, 0).data(MarkRole) == MARK_INCLUDE

    # Unticked, the same query searches the open case alone again.
    with qtbot.waitSignal(window.results_shown, timeout=60000):
        pane.past_cases.setChecked(False)
    assert all(model.record(r).case_id is None for r in range(model.rowCount()))
    assert model.index(0).data(CaseRole) is None
