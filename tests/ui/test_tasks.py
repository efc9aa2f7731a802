# SPDX-License-Identifier: Apache-2.0
"""The task runner: every task ends with exactly one of finished / cancelled / failed; cancel and
pause are cooperative; a closed group or a detached task delivers nothing, even what Qt had
already queued; shutdown leaves nothing running."""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest

from imgsim_desktop.core.errors import Cancelled
from imgsim_desktop.ui.tasks import Task, TaskEnd, TaskGroup, TaskRunner


class Ends:
    """Counts the terminal signals of tasks."""

    def __init__(self) -> None:
        self.seen: dict[Task, list[tuple[str, object]]] = defaultdict(list)

    def watch(self, task: Task) -> Task:
        for end in TaskEnd:
            getattr(task.signals, end.value).connect(
                lambda payload, t=task, e=end.value: self.seen[t].append((e, payload))
            )
        return task

    def only(self, task: Task) -> tuple[str, object]:
        assert len(self.seen[task]) == 1, self.seen[task]
        return self.seen[task][0]


@pytest.fixture
def runner():
    made = TaskRunner()
    yield made
    assert made.shutdown(10000)


def start(runner: TaskRunner, ends: Ends, work, pool=None) -> Task:
    return runner.start(ends.watch(Task(work)), pool)


def test_a_task_that_returns_is_finished_once(qtbot, runner) -> None:
    ends = Ends()
    task = start(runner, ends, lambda progress, cancel: 42)
    qtbot.waitUntil(lambda: bool(ends.seen[task]), timeout=5000)
    qtbot.wait(50)
    assert ends.only(task) == ("finished", 42) and task.end is TaskEnd.FINISHED


def test_a_task_that_raises_is_failed_once(qtbot, runner) -> None:
    ends = Ends()

    def work(progress, cancel):
        raise MemoryError("no room")

    task = start(runner, ends, work)
    qtbot.waitUntil(lambda: bool(ends.seen[task]), timeout=5000)
    qtbot.wait(50)
    end, error = ends.only(task)
    assert end == "failed" and isinstance(error, MemoryError)


def test_cancel_ends_with_what_was_kept(qtbot, runner) -> None:
    """The core raises Cancelled(summary) at its next poll: the summary is what was kept."""
    ends = Ends()
    polled = threading.Event()
    progress_seen = []

    def work(progress, cancel):
        kept = 0
        while True:
            kept += 1
            progress(kept)
            polled.set()
            if cancel():
                raise Cancelled(summary={"indexed": kept})

    task = start(runner, ends, work)
    task.signals.progress.connect(progress_seen.append)
    assert polled.wait(5)
    task.cancel()
    qtbot.waitUntil(lambda: bool(ends.seen[task]), timeout=5000)
    qtbot.wait(50)
    end, kept = ends.only(task)
    assert end == "cancelled" and kept["indexed"] >= 1
    assert progress_seen and progress_seen[-1] == kept["indexed"]  # progress lands before the end


def test_a_cancelled_task_that_still_returns_is_never_finished(qtbot, runner) -> None:
    """Work that does not poll (a query) and completes after cancel(): cancelled(its value)."""
    ends = Ends()
    release = threading.Event()

    def work(progress, cancel):
        release.wait(5)
        return "late result"

    task = start(runner, ends, work)
    task.cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(ends.seen[task]), timeout=5000)
    qtbot.wait(50)
    assert ends.only(task) in {("cancelled", "late result"), ("cancelled", None)}


def test_a_task_cancelled_in_the_queue_never_runs_and_still_ends(qtbot, runner) -> None:
    ends = Ends()
    release = threading.Event()
    ran = []
    runner.work.setMaxThreadCount(1)
    blocker = start(runner, ends, lambda p, c: release.wait(5))
    queued = start(runner, ends, lambda p, c: ran.append(1))
    queued.cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(ends.seen[queued] and ends.seen[blocker]), timeout=5000)
    qtbot.wait(50)
    assert ends.only(queued) == ("cancelled", None) and not ran
    assert ends.only(blocker) == ("finished", True)


def test_pause_blocks_at_the_poll_and_cancel_releases_it(qtbot, runner) -> None:
    ends = Ends()
    polls = []

    def work(progress, cancel):
        while not cancel():
            polls.append(1)
            threading.Event().wait(0.005)
        raise Cancelled(summary=len(polls))

    task = start(runner, ends, work)
    qtbot.waitUntil(lambda: len(polls) > 3, timeout=5000)
    task.pause()
    qtbot.wait(100)  # the poll in flight returns; the next one blocks
    paused_at = len(polls)
    qtbot.wait(200)
    assert task.paused and len(polls) <= paused_at + 1
    task.resume()
    qtbot.waitUntil(lambda: len(polls) > paused_at + 3, timeout=5000)
    task.pause()
    task.cancel()  # while paused
    qtbot.waitUntil(lambda: bool(ends.seen[task]), timeout=5000)
    assert ends.only(task)[0] == "cancelled"


def test_a_closed_group_delivers_nothing_even_what_qt_had_queued(qtbot, runner) -> None:
    group = TaskGroup(runner)
    landed = []
    done = threading.Event()
    task = group.start(
        lambda p, c: (p("step"), done.set(), "result")[-1],
        progress=landed.append,
        finished=landed.append,
        cancelled=landed.append,
        failed=landed.append,
    )
    assert done.wait(5)
    assert task.done.wait(5)  # its signals are emitted and queued, not yet delivered
    group.close()
    qtbot.wait(100)
    assert landed == []
    assert not runner.running()


def test_a_detached_task_is_replaced_silently(qtbot, runner) -> None:
    """A new query replaces the one in flight: the old one's late result never lands."""
    group = TaskGroup(runner)
    landed = []
    release = threading.Event()
    old = group.start(lambda p, c: (release.wait(5), "old")[-1], finished=landed.append)
    group.detach(old)
    new = group.start(lambda p, c: "new", finished=landed.append)
    release.set()
    qtbot.waitUntil(lambda: old.done.is_set() and new.done.is_set(), timeout=5000)
    qtbot.wait(100)
    assert landed == ["new"]
    group.close()


def test_shutdown_cancels_and_waits_for_every_task(qtbot) -> None:
    runner = TaskRunner()
    stopped = []

    def work(progress, cancel):
        while not cancel():
            threading.Event().wait(0.01)
        stopped.append(1)
        raise Cancelled()

    tasks = [runner.start(Task(work)) for _ in range(2)]
    qtbot.wait(50)
    assert runner.shutdown(5000)
    assert len(stopped) == 2 and all(t.end is TaskEnd.CANCELLED for t in tasks)
