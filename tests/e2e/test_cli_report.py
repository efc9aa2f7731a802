# SPDX-License-Identifier: Apache-2.0
"""End to end: ``imgsim report`` and ``imgsim audit`` with the real model on the fixture images."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import FIXTURES, manifest
from tests.e2e.helpers import imgsim

pytestmark = pytest.mark.model


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _audit(case: Path, home: Path) -> list[dict]:
    run = imgsim("audit", case, "--json", home=home)
    assert run.returncode == 0, run.stderr
    return run.json_lines()


def test_reports_in_every_format_with_true_hashes_and_audit_lines(
    fixture_case: Path, imgsim_home: Path, tmp_path: Path
) -> None:
    before = manifest(fixture_case)
    assert imgsim("index", fixture_case, home=imgsim_home).returncode == 0
    start = len(_audit(fixture_case, imgsim_home))
    assert start == 3  # case_opened, index_started, index_finished
    out = tmp_path / "out"
    out.mkdir()
    query = fixture_case / "scene2_a.jpg"
    for ext in ("html", "pdf", "csv", "json"):
        run = imgsim(
            "report", fixture_case, query, "-o", out / f"r.{ext}", "-k", "8",
            "--examiner", "Bar Check", "--case-number", "C-1", "--notes", "first pass",
            home=imgsim_home,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        report = out / f"r.{ext}"
        assert _sha256(report) in run.stdout
        assert (out / f"r.{ext}.sha256").read_text() == f"{_sha256(report)}  r.{ext}\n"

    rows = list(csv.DictReader((out / "r.csv").open(encoding="utf-8-sig")))
    assert len(rows) == 8
    for row in rows:
        data = (fixture_case / row["path"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert row["md5"] == hashlib.md5(data).hexdigest()
        assert row["model"] == "tf_efficientnet_lite0" and len(row["weights_sha256"]) == 64
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert report["query"]["sha256"] == _sha256(query)
    assert [m["path"] for m in report["matches"]] == [r["path"] for r in rows]
    html = (out / "r.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', html)) == 9  # query + 8
    pdf = PdfReader(out / "r.pdf")
    assert len(pdf.pages) >= 2
    assert f"page 1 of {len(pdf.pages)}" in pdf.pages[0].extract_text()

    events = _audit(fixture_case, imgsim_home)[start:]
    # each report: the case opened, the query, the export
    assert [e["event"] for e in events] == ["case_opened", "query", "export"] * 4
    exports = [e for e in events if e["event"] == "export"]
    assert [(e["path"], e["sha256"]) for e in exports] == [
        (str(out / f"r.{ext}"), _sha256(out / f"r.{ext}")) for ext in ("html", "pdf", "csv", "json")
    ]
    assert all(
        e["query_sha256"] == _sha256(query) and e["examiner"] == "Bar Check" for e in exports
    )
    text = imgsim("audit", fixture_case, home=imgsim_home)
    assert text.returncode == 0 and text.stdout.count(" export ") == 4
    assert manifest(fixture_case) == before


def test_refusals_have_clear_errors_and_write_nothing(imgsim_home: Path, tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case)  # writable, so a refusal is deliberate
    assert imgsim("index", case, home=imgsim_home).returncode == 0
    query = case / "scene0_a.jpg"

    inside = imgsim("report", case, query, "-o", case / "r.html", home=imgsim_home)
    assert inside.returncode == 1
    assert inside.stderr.startswith("imgsim: error: refusing to write a report inside the case")
    assert "Traceback" not in inside.stderr
    assert not (case / "r.html").exists() and not (case / "r.html.sha256").exists()

    target = tmp_path / "r.csv"
    assert imgsim("report", case, query, "-o", target, "-k", "3", home=imgsim_home).returncode == 0
    first = _sha256(target)
    again = imgsim("report", case, query, "-o", target, home=imgsim_home)
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr
    assert _sha256(target) == first
    forced = imgsim("report", case, query, "-o", target, "-k", "5", "--force", home=imgsim_home)
    assert forced.returncode == 0, forced.stderr
    assert len(list(csv.DictReader(target.open(encoding="utf-8-sig")))) == 5

    bad = imgsim("report", case, query, "-o", tmp_path / "r.docx", home=imgsim_home)
    assert (
        bad.returncode == 2
        and "use a .html, .pdf, .csv, .json, .vics.json or .jsonld" in bad.stderr
    )

    events = [e["event"] for e in _audit(case, imgsim_home)]
    assert events.count("export_refused") == 2 and events.count("export") == 2
    never = imgsim("audit", tmp_path, home=imgsim_home)
    assert never.returncode == 1 and "no audit log" in never.stderr
