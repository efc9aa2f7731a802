# SPDX-License-Identifier: Apache-2.0
"""Reports with a fake embedder: true hashes, valid PDF pages, embedded thumbnails, refusals."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import ReportError
from imgsim_desktop.core.report import (
    INTEGRITY_CHANGED,
    INTEGRITY_OK,
    ReportOptions,
    build_report,
    examine_file,
    export_report,
    write_report,
)
from tests.conftest import FIXTURES, manifest
from tests.core.fakes import FakeEmbedder, fake_head

N_IMAGES = 13
OPTIONS = ReportOptions(examiner="Zoë Examiner", case_number="C-42/7", notes="seized phone")


def _open(case: Path):
    return open_case(case, embedder=FakeEmbedder(), head=fake_head())


def _digest(path: Path, algorithm: str) -> str:
    return hashlib.new(algorithm, path.read_bytes()).hexdigest()


@pytest.fixture
def queried(fixture_case: Path):
    """The fixture case indexed and queried for every image (all scenes)."""
    before = manifest(fixture_case)
    with _open(fixture_case) as case:
        case.index()
        result = case.query(fixture_case / "scene0_a.jpg", k=N_IMAGES, all_scenes=True)
        assert len(result.results) == N_IMAGES
        yield case, result
    assert manifest(fixture_case) == before, "the case folder changed"


def _sidecar_ok(path: Path) -> None:
    sidecar = path.with_name(path.name + ".sha256")
    assert sidecar.read_text() == f"{_digest(path, 'sha256')}  {path.name}\n"


def test_csv_and_json_hashes_are_the_file_bytes_hashes(queried, tmp_path: Path) -> None:
    case, result = queried
    out = tmp_path / "out"
    out.mkdir()
    export_report(case, result, OPTIONS, out / "r.csv")
    export_report(case, result, OPTIONS, out / "r.json")
    for name in ("r.csv", "r.json"):
        _sidecar_ok(out / name)

    raw = (out / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheets
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [int(r["rank"]) for r in rows] == list(range(1, N_IMAGES + 1))
    for row in rows:
        path = case.root / row["path"]
        assert row["absolute_path"] == str(path)
        assert row["sha256"] == _digest(path, "sha256") == row["catalogue_sha256"]
        assert row["md5"] == _digest(path, "md5")
        assert row["sha1"] == _digest(path, "sha1")
        assert int(row["size_bytes"]) == path.stat().st_size
        assert row["integrity"] == INTEGRITY_OK
        assert row["examiner"] == "Zoë Examiner" and row["case_number"] == "C-42/7"
        assert row["query_sha256"] == _digest(case.root / "scene0_a.jpg", "sha256")

    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert data["format"] == "imgsim-report"
    assert data["query"]["sha256"] == result.query_sha256 == data["query_sha256_at_query"]
    assert data["query"]["md5"] == _digest(case.root / "scene0_a.jpg", "md5")
    assert data["settings"] == {
        "k": N_IMAGES,
        "all_scenes": True,
        "coverage": 0.9,
        "rotations": True,
        "flips": False,
        "scales": True,
        "windows": False,
        "verify_copies": True,
        "hide_known": False,
        "near_copy_threshold": 31,
        "region": None,
        "combine": None,
        "negatives": [],
        "positives": [],
    }
    assert data["scenes_searched"] == result.scenes_searched
    assert data["embedder"] == result.embedder and data["model"] == "fake"
    assert data["weights_sha256"] == "0" * 64
    assert data["created_utc"].endswith("Z") and data["created_local"]
    assert len(data["matches"]) == N_IMAGES
    for match in data["matches"]:
        path = case.root / match["path"]
        assert match["sha256"] == _digest(path, "sha256")
        assert match["md5"] == _digest(path, "md5")
        assert (match["width"], match["height"]) == Image.open(path).size or match["path"] == (
            "sub/scene3_rotated.jpg"
        )
    rotated = next(m for m in data["matches"] if m["path"] == "sub/scene3_rotated.jpg")
    assert (rotated["width"], rotated["height"]) == (320, 240)  # EXIF orientation applied
    assert any('"event": "query"' in line for line in data["audit_lines"])


def test_pdf_is_valid_with_numbered_pages_and_thumbnails(queried, tmp_path: Path) -> None:
    case, result = queried
    written = export_report(case, result, OPTIONS, tmp_path / "r.pdf")
    _sidecar_ok(written.path)
    reader = PdfReader(written.path)
    total = len(reader.pages)
    # 13 matches with 80-pt thumbnails do not fit on one A4 page after the header tables.
    assert 2 <= total <= 4
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"page {number} of {total}" in text
        assert "C-42/7" in text  # the header names the case on every page
    first = reader.pages[0].extract_text()
    assert "Image similarity report" in first and "Zoë Examiner" in first
    images = sum(len(page.images) for page in reader.pages)
    # One image per distinct file: the query is match 1 here, and reportlab embeds the same
    # thumbnail once per page.
    assert images == len({m.sha256 for m in result.results} | {result.query_sha256}) == N_IMAGES
    assert reader.metadata is not None and reader.metadata.author == "Zoë Examiner"


def test_html_embeds_every_thumbnail_and_escapes_evidence_text(queried, tmp_path: Path) -> None:
    case, result = queried
    hostile = result.results[1]
    case.set_note(hostile.path, hostile.sha256, '<script>alert("x")</script> & more')
    written = export_report(case, result, OPTIONS, tmp_path / "r.html")
    _sidecar_ok(written.path)
    html = written.path.read_text(encoding="utf-8")
    sources = re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"', html)
    assert len(sources) == N_IMAGES + 1
    for source in sources:
        thumb = Image.open(io.BytesIO(base64.b64decode(source)))
        assert thumb.format == "JPEG" and max(thumb.size) <= OPTIONS.thumbnail_side
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html  # nothing fetched when opened
    assert result.query_sha256 in html
    for match in result.results:
        assert match.sha256 in html


def test_writing_inside_the_case_folder_is_refused(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case_dir)  # writable: the refusal must be deliberate
    with _open(case_dir) as case:
        case.index()
        result = case.query(case_dir / "scene0_a.jpg", k=3)
        lines = len(case.audit.entries())
        for target in (case_dir / "r.html", case_dir / "sub" / "r.pdf", case_dir / "r.csv"):
            with pytest.raises(ReportError, match="inside the case folder"):
                export_report(case, result, OPTIONS, target)
            assert not target.exists()
            assert not target.with_name(target.name + ".sha256").exists()
        link = tmp_path / "link-to-case"
        link.symlink_to(case_dir)
        with pytest.raises(ReportError, match="inside the case folder"):
            export_report(case, result, OPTIONS, link / "r.json")
        entries = case.audit.entries()
    assert [e.event for e in entries[lines:]] == ["export_refused"] * 4
    assert not list(case_dir.glob("r.*")) and not list(case_dir.glob("sub/r.*"))


def test_existing_report_is_not_overwritten_unless_forced(queried, tmp_path: Path) -> None:
    case, result = queried
    target = tmp_path / "r.json"
    first = export_report(case, result, OPTIONS, target)
    with pytest.raises(ReportError, match="already exists"):
        export_report(case, result, OPTIONS, target)
    assert _digest(target, "sha256") == first.sha256
    target.with_name("r.csv.sha256").write_text("stray sidecar\n")
    with pytest.raises(ReportError, match="already exists"):  # a stray sidecar blocks too
        export_report(case, result, OPTIONS, tmp_path / "r.csv")
    forced = export_report(case, result, ReportOptions(examiner="B"), target, force=True)
    assert forced.sha256 != first.sha256
    _sidecar_ok(target)
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ReportError, match="format"):
        export_report(case, result, OPTIONS, tmp_path / "r.txt")
    with pytest.raises(ReportError, match="does not exist"):
        export_report(case, result, OPTIONS, tmp_path / "missing" / "r.html")


def test_a_file_changed_since_indexing_is_flagged(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(FIXTURES / "case", case_dir)
    with _open(case_dir) as case:
        case.index()
        result = case.query(case_dir / "scene0_a.jpg", k=N_IMAGES, all_scenes=True)
        changed, gone = result.results[2], result.results[3]
        (case_dir / changed.path).write_bytes((case_dir / changed.path).read_bytes() + b"x")
        (case_dir / gone.path).unlink()
        data = build_report(case, result, OPTIONS)
        written = write_report(data, tmp_path / "r.csv")
        html = write_report(data, tmp_path / "r.html").path.read_text(encoding="utf-8")
    by_path = {m.path: m for m in data.matches}
    assert by_path[changed.path].integrity == INTEGRITY_CHANGED
    assert by_path[changed.path].evidence.sha256 == _digest(case_dir / changed.path, "sha256")
    assert by_path[changed.path].catalogue_sha256 == changed.sha256
    assert by_path[gone.path].integrity.startswith("file unreadable at export time")
    assert data.changed_count == 2 and written.changed == 2
    rows = list(csv.DictReader(io.StringIO(written.path.read_text(encoding="utf-8-sig"))))
    flagged = {r["path"]: r["integrity"] for r in rows if r["integrity"] != INTEGRITY_OK}
    assert flagged[changed.path] == "file changed since indexing"
    assert "file changed since indexing" in html


def test_marked_only_keeps_the_included_matches_with_marks_and_notes(queried) -> None:
    case, result = queried
    keep, drop = result.results[4], result.results[1]
    case.set_mark(keep.path, keep.sha256, "include")
    case.set_note(keep.path, keep.sha256, "same wallpaper")
    case.set_mark(drop.path, drop.sha256, "not_relevant")
    data = build_report(case, result, ReportOptions(marked_only=True))
    assert [(m.rank, m.path, m.mark, m.note) for m in data.matches] == [
        (5, keep.path, "include", "same wallpaper")
    ]
    assert data.results_total == N_IMAGES and "marked" in data.selection
    full = build_report(case, result, ReportOptions())
    assert {m.path: m.mark for m in full.matches}[drop.path] == "not_relevant"
    mark_lines = [line for line in data.audit_lines if '"event": "mark"' in line]
    assert len(mark_lines) == 1 and keep.path in mark_lines[0]


def test_exif_date_camera_and_gps_are_read(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D"
    exif[0x8769] = {0x9003: "2021:05:04 10:11:12"}
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 12.0), 3: "W", 4: (4.0, 53.0, 24.0)}
    path = tmp_path / "gps.jpg"
    Image.new("RGB", (640, 480), (200, 30, 30)).save(path, "JPEG", exif=exif)
    facts = examine_file(path, thumb_side=100)
    assert facts.exif_date == "2021:05:04 10:11:12"
    assert facts.exif_camera == "Canon EOS 5D"
    assert facts.gps == "52.370000, -4.890000"
    assert (facts.width, facts.height, facts.size) == (640, 480, path.stat().st_size)
    assert facts.sha256 == _digest(path, "sha256") and facts.md5 == _digest(path, "md5")
    assert Image.open(io.BytesIO(facts.thumbnail_jpeg or b"")).size == (100, 75)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    facts = examine_file(broken, thumb_side=100)
    assert facts.sha256 == _digest(broken, "sha256") and facts.thumbnail_jpeg is None
    assert facts.error and "not a decodable image" in facts.error


@pytest.mark.parametrize("fmt", ["html", "csv", "json", "pdf"])
def test_names_that_are_not_utf8_go_into_every_format(tmp_path: Path, fmt: str) -> None:
    case_dir = tmp_path / "case" / "ca\udce9s"  # the case folder's own name is not UTF-8 either
    shutil.copytree(FIXTURES / "case", case_dir)
    odd = os.path.join(os.fsencode(case_dir), b"caf\xe9_copie.jpg")
    shutil.copy(case_dir / "scene0_a.jpg", odd)
    with _open(case_dir) as case:
        case.index()
        result = case.query(case_dir / "scene0_a.jpg", k=N_IMAGES + 1, all_scenes=True)
        assert "caf\\xe9_copie.jpg" in [r.path for r in result.results]
        written = export_report(case, result, OPTIONS, tmp_path / f"r.{fmt}")
    raw = written.path.read_bytes()
    if fmt == "pdf":
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)
        assert "caf\\xe9_copie.jpg" in text.replace("\n", "")
    else:
        text = raw.decode("utf-8-sig")  # valid UTF-8: no lone surrogates were written
        assert "caf\\xe9_copie.jpg" in text or "caf\\\\xe9_copie.jpg" in text
        assert "ca\\xe9s" in text or "ca\\\\xe9s" in text
    _sidecar_ok(written.path)
