# SPDX-License-Identifier: Apache-2.0
"""The bad-input corpus: every bad file is reported with a reason, every good one is indexed."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from imgsim_desktop import cli
from imgsim_desktop.cli import common as cli_common
from imgsim_desktop.core import UnreadableImageError, open_case
from imgsim_desktop.core.evidence import imagefile as imagefile_module
from imgsim_desktop.core.evidence.imagefile import load_for_embedding, read_bytes
from tests.conftest import ROOT, make_readonly_copy, make_writable, manifest
from tests.core.badcorpus import NON_UTF8, bomb_png, build_bad_corpus
from tests.core.fakes import FakeEmbedder, fake_head


def _deny(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``name`` unreadable even for root (permissions do not stop root)."""
    if os.geteuid() != 0:
        return
    real_open = open

    def guarded(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.fspath(path).endswith(name) if isinstance(path, str | Path) else False:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(imagefile_module, "open", guarded, raising=False)


def test_bad_corpus_is_reported_and_good_files_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "src"
    corpus = build_bad_corpus(source)
    case_dir = make_readonly_copy(source, tmp_path / "case")
    assert corpus.unreadable is not None
    (case_dir / corpus.unreadable).chmod(0)
    _deny(monkeypatch, corpus.unreadable)
    before = manifest(case_dir)
    try:
        with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
            summary = case.index()
            records = {r.path: r for r in case.files()}
            again = case.index()
        assert manifest(case_dir) == before
    finally:
        make_writable(case_dir)
    failed = {f["path"]: f["error"] for f in summary.failed}
    assert corpus.bad <= set(failed), f"not reported: {corpus.bad - set(failed)}"
    assert all(reason.strip() for reason in failed.values())
    assert "empty" in failed["zero.jpg"]
    assert "decompression bomb" in failed["bomb.png"]
    assert "broken link" in failed["broken_link.jpg"]
    assert "outside the case" in failed["outside"]
    assert "link loop" in failed["self_loop_a.jpg"]
    assert "ermission" in failed["no_permission.jpg"]
    indexed = {p for p, r in records.items() if r.status == "indexed"}
    assert indexed == corpus.good
    assert summary.indexed == len(corpus.good)
    assert records["sliver.png"].height == 100_000
    assert again.indexed == 0 and again.failed == summary.failed  # still reported, not retried
    json.dumps(summary.to_json(), ensure_ascii=False).encode("utf-8")  # no lone surrogates
    capsys.readouterr()
    assert cli.main(["files", str(case_dir), "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "sub/caf\\xe9_latin1.jpg" in {row["path"] for row in listed}


def test_a_file_deleted_or_changed_while_indexing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_dir = tmp_path / "case"
    build_bad_corpus(case_dir)
    (case_dir / "no_permission.jpg").unlink()
    real_load = load_for_embedding
    good_png = (case_dir / "scene0_b.png").read_bytes()

    def racing_load(path: Path, shorter_side: int):  # type: ignore[no-untyped-def]
        if path.name == "scene2_a.jpg":
            path.unlink()  # listed by the scan, gone before it is read
        if path.name == "scene4_a.jpg":
            path.write_bytes(good_png)  # replaced after the scan
        return real_load(path, shorter_side)

    monkeypatch.setattr("imgsim_desktop.core.pipeline.analysis.load_for_embedding", racing_load)
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        summary = case.index()
        failed = {f["path"]: f["error"] for f in summary.failed}
        assert "disappeared" in failed["scene2_a.jpg"]
        changed = next(r for r in case.files() if r.path == "scene4_a.jpg")
        assert changed.status == "indexed" and changed.size == len(good_png)
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        rerun = case.index()
    assert rerun.removed == 1 and rerun.indexed == 0  # the vanished file is forgotten


def test_a_file_changing_during_the_read_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"\0" * 100)
    real_fstat = os.fstat
    calls = []

    def moving_fstat(fd: int) -> os.stat_result:
        status = real_fstat(fd)
        calls.append(1)
        if len(calls) == 2:  # the check after the read sees a new size
            fields = list(status)
            fields[6] += 10
            return os.stat_result(fields)
        return status

    monkeypatch.setattr(imagefile_module.os, "fstat", moving_fstat)
    with pytest.raises(UnreadableImageError, match="changed while it was read"):
        read_bytes(path)


def test_bomb_is_rejected_without_a_memory_spike(tmp_path: Path) -> None:
    """In a fresh process, peak memory stays flat while a 2.5-gigapixel PNG is rejected."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png())
    code = (
        "import resource, sys\n"
        "from imgsim_desktop.core.evidence.imagefile import load_for_embedding\n"
        "from imgsim_desktop.core.errors import UnreadableImageError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    load_for_embedding(__import__('pathlib').Path(sys.argv[1]), 224)\n"
        "except UnreadableImageError as exc:\n"
        "    print('rejected:', exc)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(bomb)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("rejected:") and "decompression bomb" in lines[0]
    assert int(lines[-1]) < 50, f"peak memory grew by {lines[-1]} MB"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def test_corrupt_query_image_is_a_clear_error(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    build_bad_corpus(case_dir)
    (case_dir / "no_permission.jpg").unlink()
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        case.index()
        for name, reason in [
            ("truncated.jpg", "corrupt"),
            ("zero.jpg", "empty"),
            ("bomb.png", "decompression bomb"),
            ("notes.png", "not a recognised image format$"),
        ]:
            with pytest.raises(UnreadableImageError, match=reason) as info:
                case.query(case_dir / name)
            assert name in str(info.value) and "\n" not in str(info.value)


def test_query_by_an_image_whose_name_is_not_utf8(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    build_bad_corpus(case_dir)
    (case_dir / "no_permission.jpg").unlink()
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        case.index()
        non_utf8 = os.path.join(os.fsencode(case_dir / "sub"), NON_UTF8)
        result = case.query(os.fsdecode(non_utf8), k=1, all_scenes=True)
        assert result.results[0].similarity == pytest.approx(1.0, abs=1e-4)
    line = json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8")
    assert json.loads(line)["query"]["path"].endswith("caf\\xe9_latin1.jpg")


def test_a_case_folder_whose_name_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case_dir = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"case_\xff")))
    build_bad_corpus(case_dir)
    (case_dir / "no_permission.jpg").unlink()
    with open_case(case_dir, embedder=FakeEmbedder(), head=fake_head()) as case:
        summary = case.index()
    capsys.readouterr()
    cli_common.emit(summary.to_json())
    line = capsys.readouterr().out
    assert "case_\\udcff" in line  # printable, and read back as the same name
    assert json.loads(line)["case"] == str(case_dir)
