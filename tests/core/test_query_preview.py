# SPDX-License-Identifier: Apache-2.0
"""A query's preview: a quick first answer (the upright view alone, no pixel check) before the
full one, with the file read and the upright view embedded once for both; only the full answer
is audited, and it is the answer a query without a preview gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from imgsim_desktop.core import open_case
from imgsim_desktop.core.pipeline.results import QueryResult
from tests.conftest import FIXTURES
from tests.core.fakes import FakeEmbedder, fake_head


def _ranking(result: QueryResult) -> list[tuple[str, float]]:
    return [(r.path, round(r.score, 6)) for r in result.results]


def test_the_preview_comes_first_and_costs_no_extra_forward_pass(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case_dir)
    embedder = FakeEmbedder()
    image = case_dir / "scene0_a.jpg"
    with open_case(case_dir, embedder=embedder, head=fake_head()) as case:
        case.index()
        embedder.embedded = 0
        plain = case.query(image, k=10, all_scenes=True)
        plain_forward = embedder.embedded
        embedder.embedded = 0
        previews: list[tuple[QueryResult, int]] = []
        full = case.query(
            image, k=10, all_scenes=True, preview=lambda r: previews.append((r, embedder.embedded))
        )
        with_preview_forward = embedder.embedded
        audit = [json.loads(line) for line in case.audit.path.read_text().splitlines()]
    assert len(previews) == 1
    preview, forward_at_preview = previews[0]
    assert forward_at_preview == 1  # the upright view alone
    assert with_preview_forward == plain_forward == 4  # upright and three turns, once each
    quick = preview.settings
    assert not quick.rotations and not quick.scales and not quick.verify_copies
    assert preview.results and preview.results[0].path == "scene0_a.jpg"
    assert all(r.copy_correlation is None for r in preview.results)
    assert full.settings == plain.settings and full.settings.rotations
    assert _ranking(full) == _ranking(plain)
    queries = [e for e in audit if e["event"] == "query"]
    assert len(queries) == 2  # the plain query and the one with a preview: one line each
