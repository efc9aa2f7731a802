# SPDX-License-Identifier: Apache-2.0
"""The audit log and the marks: the expected lines in order, a verifiable chain, keyed marks."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from imgsim_desktop.core import Cancelled, UnreadableImageError, open_case
from imgsim_desktop.core.errors import MarkError
from imgsim_desktop.core.report import ReportOptions, export_report
from imgsim_desktop.core.store.work.audit import GENESIS, AuditLog, line_hash, os_user
from tests.core.fakes import FakeEmbedder, fake_head


def _open(case: Path, **kwargs):
    return open_case(case, embedder=FakeEmbedder(), head=fake_head(), **kwargs)


def test_an_index_line_counts_the_unreadable_files(tmp_path: Path) -> None:
    """The line records how many files failed, not each of them (a case of 200,000 unreadable
    files made a 13 MB audit line per run); the files and reasons are in the catalogue."""
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    for i in range(50):
        (case_dir / f"e{i}.jpg").touch()
    with _open(case_dir) as case:
        case.index()
        finished = case.audit.entries()[-1]
    assert finished.event == "index_finished" and finished.data["failures"] == 50
    assert "failed" not in finished.data
    assert case.audit.path.stat().st_size < 4000


def test_the_log_grows_by_the_expected_lines(fixture_case: Path, tmp_path: Path) -> None:
    with _open(fixture_case) as case:
        assert case.audit.path.parent == case.data_dir
        case.index()
        result = case.query(fixture_case / "scene0_a.jpg", k=5, all_scenes=True)
        top = result.results[1]
        case.set_mark(top.path, top.sha256, "include")
        case.set_note(top.path, top.sha256, "same door")
        written = export_report(case, result, ReportOptions(), tmp_path / "r.csv")
        entries = case.audit.entries()
    assert [e.event for e in entries] == [
        "case_opened",
        "index_started",
        "index_finished",
        "query",
        "mark",
        "note",
        "export",
    ]
    for entry in entries:
        assert entry.data["ts"].endswith("Z") and entry.data["user"] == os_user()
        assert entry.data["case"] == str(fixture_case)
    finished = entries[2].data
    assert (finished["indexed"], finished["failures"]) == (13, 0)
    query = entries[3].data
    assert query["query_sha256"] == result.query_sha256 and query["k"] == 5
    assert query["scenes_searched"] == result.scenes_searched
    assert [(r["path"], r["score"]) for r in query["results"]] == [
        (r.path, round(r.score, 6)) for r in result.results
    ]
    assert (entries[4].data["mark"], entries[5].data["note"]) == ("include", "same door")
    export = entries[6].data
    assert export["path"] == str(written.path) and export["sha256"] == written.sha256
    with _open(fixture_case, log_open=False) as case:
        assert len(case.audit.entries()) == len(entries)  # reading the log adds nothing
        assert case.audit.verify() == []


def test_failed_query_and_cancelled_index_are_logged(
    fixture_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("imgsim_desktop.core.pipeline.indexing.BATCH_SIZE", 4)
    with _open(fixture_case) as case:
        with pytest.raises(Cancelled):
            case.index(cancel=lambda: True)
        case.index()
        bogus = tmp_path / "bogus.jpg"
        bogus.write_bytes(b"not an image")
        with pytest.raises(UnreadableImageError):
            case.query(bogus)
        events = [e.event for e in case.audit.entries()]
    assert events == [
        "case_opened",
        "index_started",
        "index_cancelled",
        "index_started",
        "index_finished",
        "query_failed",
    ]


def test_the_chain_detects_an_edited_or_removed_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "data" / "audit.jsonl", tmp_path / "case")
    for n in range(4):
        log.append("query", n=n)
    entries = log.entries()
    assert entries[0].data["prev"] == GENESIS
    assert entries[2].data["prev"] == line_hash(entries[1].raw.encode())
    assert log.verify() == []
    lines = log.path.read_text().splitlines()
    edited = lines[:]
    edited[1] = edited[1].replace('"n": 1', '"n": 7')
    log.path.write_text("\n".join(edited) + "\n")
    assert log.verify() == ["line 3: chain broken (a line before it was changed or removed)"]
    log.path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    assert log.verify() == [
        "line 2: chain broken (a line before it was changed or removed)",
        "the log has 3 lines but 4 were written: 1 line(s) cut off its end",
    ]


def test_a_torn_last_line_is_ended_and_reported(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", tmp_path)
    log.append("case_opened")
    with open(log.path, "ab") as handle:
        handle.write(b'{"ts": "2020-01-01T00:00:00Z", "event": "que')  # a crash mid-write
    log.append("query", n=1)
    entries = log.entries()
    assert [e.event for e in entries] == ["case_opened", "unparsable", "query"]
    assert entries[2].data["prev"] == line_hash(entries[1].raw.encode())
    assert log.verify() == ["line 2 is not a JSON object"]
    assert all(json.loads(line) for line in [entries[0].raw, entries[2].raw])


def test_marks_are_keyed_by_path_and_hash(fixture_case: Path) -> None:
    with _open(fixture_case) as case:
        case.index()
        record = next(r for r in case.files() if r.path == "scene1_a.jpg")
        assert record.sha256 is not None
        case.set_mark(record.path, record.sha256, "include")
        case.set_note(record.path, record.sha256, "  kitchen  ")
        mark = case.mark_for(record.path, record.sha256)
        assert mark is not None and (mark.mark, mark.note) == ("include", "kitchen")
        assert case.mark_for(record.path, "f" * 64) is None  # another version of the file
        case.set_mark(record.path, record.sha256, None)
        assert case.mark_for(record.path, record.sha256).note == "kitchen"  # type: ignore[union-attr]
        case.set_note(record.path, record.sha256, "")
        assert case.mark_for(record.path, record.sha256) is None
        with pytest.raises(MarkError):
            case.set_mark(record.path, record.sha256, "maybe")
        with pytest.raises(MarkError):
            case.set_mark("../outside.jpg", record.sha256, "include")
        with pytest.raises(MarkError):
            case.set_mark(record.path, "abc", "include")
        assert (case.data_dir / "marks.sqlite").is_file()


def test_marks_set_in_one_thread_are_read_in_another(fixture_case: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with _open(fixture_case) as case:
        case.index()
        record = next(r for r in case.files() if r.path == "scene2_a.jpg")
        assert record.sha256 is not None
        case.set_mark(record.path, record.sha256, "include")  # opens the store on this thread
        with ThreadPoolExecutor(1) as pool:  # as a GUI worker building a report would
            mark = pool.submit(case.mark_for, record.path, record.sha256).result()
            pool.submit(case.set_note, record.path, record.sha256, "from a worker").result()
        assert mark is not None and mark.mark == "include"
        assert case.mark_for(record.path, record.sha256).note == "from a worker"  # type: ignore[union-attr]


def test_lines_cut_off_the_end_are_detected(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", tmp_path)
    for n in range(5):
        log.append("query", n=n)
    lines = log.path.read_bytes().splitlines(keepends=True)
    assert log.read_head() == {"lines": 5, "last": line_hash(lines[-1])}
    log.path.write_bytes(b"".join(lines[:3]))  # the chain of what is left is intact
    assert log.verify() == ["the log has 3 lines but 5 were written: 2 line(s) cut off its end"]
    log.path.write_bytes(b"".join(lines[:4]) + lines[4].replace(b'"n": 4', b'"n": 9'))
    assert log.verify() == ["line 5, the last one recorded, is not the line written"]
    log.path.write_bytes(b"".join(lines))
    assert log.verify() == []
    log.head_path.unlink()  # the length record itself removed
    assert log.verify() == [
        f"the log's length record {log.head_path.name} is missing or unreadable"
    ]


def test_a_log_from_before_length_records_keeps_working(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", tmp_path)
    old = {"ts": "2026-01-01T00:00:00.000Z", "user": "x", "event": "case_opened", "prev": GENESIS}
    log.path.write_text(json.dumps(old) + "\n")
    assert log.verify() == []  # nothing to compare with yet: the chain is all there is
    log.append("query")
    assert log.read_head() == {"lines": 2, "last": line_hash(log.path.read_bytes().splitlines()[1])}
    assert log.verify() == [] and log.entries()[1].data["seq"] == 2


def _append_many(path: str, count: int) -> None:
    log = AuditLog(Path(path), Path("/case"))
    for n in range(count):
        log.append("mark", n=n, pid=os.getpid())


def test_concurrent_appenders_never_fork_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(path), 40)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    log = AuditLog(path, Path("/case"))
    assert len(log.entries()) == 160
    assert log.verify() == []
    assert [e.data["seq"] for e in log.entries()] == list(range(1, 161))
