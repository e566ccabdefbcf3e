"""The local worker: one render at a time in a subprocess, retries, crashes, restarts,
and one run per render whatever dies."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.local_worker import LocalWorker
from infra.queue.sqlite import SqliteRenderQueue
from tests.conftest import ROOT
from tests.usage import stored_events

# Stand-ins for the render job, as small programs with the job's command-line shape.
FAILS = [sys.executable, "-c", "import sys; print('error: the GPU caught fire', file=sys.stderr); sys.exit(1)"]
KILLED = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]


def queued(adapters, make_render):
    render = make_render()
    adapters.queue.submit(render.id)
    return render


def worker(adapters, **kwargs) -> LocalWorker:
    return LocalWorker(adapters, adapters.queue, **kwargs)


@pytest.mark.slow
def test_runs_the_real_job_to_a_finished_clip(adapters, make_render, monkeypatch):
    monkeypatch.setenv("ANIMBOOKS_DEVICE", "cpu")
    render = queued(adapters, make_render)
    local = worker(adapters)
    assert local.run_once()
    assert adapters.records.get_render(render.id).state == "succeeded"
    assert adapters.queue.depth() == 0
    assert not local.run_once()
    [event] = stored_events(adapters)
    assert (event["kind"], event["status"], event["render_id"]) == ("render", "succeeded", render.id)


def test_a_crashing_job_is_retried_then_failed_with_its_last_words(adapters, make_render):
    render = queued(adapters, make_render)
    adapters.records.mark_running(render.id, 1, "first")  # as the job does before it crashes
    local = worker(adapters, command=FAILS)
    local.run_once()
    assert adapters.records.get_render(render.id).state == "queued"
    adapters.records.mark_running(render.id, 2, "second")
    local.run_once()
    failed = adapters.records.get_render(render.id)
    assert failed.state == "failed"
    assert failed.error == (
        "the render process stopped unexpectedly (exit status 1): error: the GPU caught fire; gave up after 2 attempts"
    )
    assert adapters.queue.depth() == 0
    # Each attempt died without recording its usage; the worker recorded it for them.
    assert [(e["status"], e["event_id"]) for e in stored_events(adapters)] == [
        ("interrupted", "render-attempt-first"),
        ("interrupted", "render-attempt-second"),
    ]


def test_a_killed_job_is_retried(adapters, make_render):
    render = queued(adapters, make_render)
    adapters.records.mark_running(render.id, 1, "first")
    worker(adapters, command=KILLED).run_once()
    stored = adapters.records.get_render(render.id)
    assert stored.state == "queued" and "exit status -9" in stored.error
    assert adapters.queue.claim().attempt == 2


def test_a_job_that_dies_before_starting_the_render_uses_an_attempt_too(adapters, make_render):
    render = queued(adapters, make_render)
    local = worker(adapters, command=KILLED)
    local.run_once()
    assert adapters.records.get_render(render.id).state == "queued"
    local.run_once()
    failed = adapters.records.get_render(render.id)
    assert failed.state == "failed" and failed.error.endswith("gave up after 2 attempts")
    assert stored_events(adapters) == []  # it never ran, so it cost nothing


def test_a_restarted_worker_counts_the_interrupted_attempt_and_queues_it_again(adapters, make_render):
    render = queued(adapters, make_render)
    adapters.queue.claim()  # a worker claimed it, started the job...
    adapters.records.mark_running(render.id, 1, "first")  # ...and died with it
    adapters.records.report_progress(render.id, "first", "denoising", 0.5)
    local = worker(adapters)
    assert local.acquire()
    try:
        stored = adapters.records.get_render(render.id)
        assert (stored.state, stored.error) == ("queued", "the site restarted during this render")
        assert adapters.queue.claim().attempt == 2
    finally:
        local.stop()
    [event] = stored_events(adapters)
    assert (event["status"], event["render_id"], event["event_id"]) == (
        "interrupted",
        render.id,
        "render-attempt-first",
    )
    assert event["wall_seconds"] >= 0


def test_a_render_that_keeps_killing_the_site_stops_at_the_attempt_cap(adapters, make_render):
    """Before, every restart queued it again with no cap: a render that kills the server ran forever."""
    render = queued(adapters, make_render)
    for attempt, runner in ((1, "first"), (2, "second")):
        delivery = adapters.queue.claim()
        assert delivery.attempt == attempt
        adapters.records.mark_running(render.id, attempt, runner)
        local = worker(adapters)  # the site restarts: a new worker finds the claimed request
        assert local.acquire()
        local.stop()
    failed = adapters.records.get_render(render.id)
    assert failed.state == "failed"
    assert failed.error == "the site restarted during this render; gave up after 2 attempts"
    assert adapters.queue.depth() == 0
    assert [e["status"] for e in stored_events(adapters)] == ["interrupted", "interrupted"]


def test_a_restarted_worker_kills_a_job_its_dead_predecessor_left_running(adapters, make_render):
    render = queued(adapters, make_render)
    adapters.queue.claim()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "run", render.id]) as orphan:
        _wait_for_command(orphan.pid, render.id)
        adapters.queue.mark_claimed_by(render.id, orphan.pid)
        local = worker(adapters)
        assert local.acquire()
        local.stop()
        assert orphan.wait(timeout=10) == -signal.SIGKILL
    assert adapters.records.get_render(render.id).state == "queued"


def test_a_restarted_worker_leaves_alone_a_process_that_is_not_the_job(adapters, make_render):
    render = queued(adapters, make_render)
    adapters.queue.claim()
    # The dead job's pid, since reused by another program.
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "other"]) as bystander:
        _wait_for_command(bystander.pid, "other")
        adapters.queue.mark_claimed_by(render.id, bystander.pid)
        local = worker(adapters)
        assert local.acquire()
        local.stop()
        assert bystander.poll() is None
        bystander.kill()


def _wait_for_command(pid: int, word: str) -> None:
    """Until the child has exec'd its own command (before, /proc shows the parent's)."""
    deadline = time.monotonic() + 10
    while word.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_only_one_worker_per_data_folder(adapters):
    first, second = worker(adapters), worker(adapters)
    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.stop()
    assert second.acquire()
    second.stop()


def test_a_waiting_worker_takes_over_when_the_holder_goes(adapters):
    """A gunicorn reload starts new workers while the old ones still hold the lock."""
    holder, waiting = worker(adapters), worker(adapters)
    assert holder.acquire()
    waiting.start()
    try:
        time.sleep(1.5)
        assert not waiting.active
        holder.stop()
        deadline = time.monotonic() + 10
        while not waiting.active:
            assert time.monotonic() < deadline, "the waiting worker never took over"
            time.sleep(0.1)
    finally:
        waiting.stop()


def test_the_job_is_told_its_attempt_data_folder_and_worker(adapters, make_render, tmp_path):
    render = queued(adapters, make_render)
    report = tmp_path / "seen"
    spy = [
        sys.executable,
        "-c",
        f"import os, sys; open({str(report)!r}, 'w').write(os.environ['ANIMBOOKS_RENDER_ATTEMPT'] + ' ' + "
        "os.environ['ANIMBOOKS_DATA_DIR'] + ' ' + os.environ['ANIMBOOKS_WORKER_PID'] + ' ' + sys.argv[1])",
    ]
    worker(adapters, command=spy).run_once()
    assert report.read_text() == f"1 {adapters.settings.data_dir} {os.getpid()} {render.id}"


DIES_WITH_WORKER = """
import os, subprocess, sys, time
child = subprocess.Popen(
    [sys.executable, "-c", "import time; from infra.job_lifeline import die_with_worker as d; d(); time.sleep(60)"],
    env={**os.environ, "ANIMBOOKS_WORKER_PID": str(os.getpid())},
)
print(child.pid, flush=True)
time.sleep(60)
"""


def test_a_job_dies_with_its_worker():
    with subprocess.Popen(
        [sys.executable, "-c", DIES_WITH_WORKER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as worker_process:
        assert worker_process.stdout is not None
        job = int(worker_process.stdout.readline())
        time.sleep(1.0)  # the job has armed its parent-death signal
        assert _alive(job)
        worker_process.kill()
    deadline = time.monotonic() + 10
    while _alive(job):
        assert time.monotonic() < deadline, "the job outlived its worker"
        time.sleep(0.1)


def test_a_job_whose_worker_is_already_gone_does_not_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "from infra.job_lifeline import die_with_worker; die_with_worker(); print('ran')"],
        cwd=ROOT,
        env={**os.environ, "ANIMBOOKS_WORKER_PID": "1"},  # not our parent
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout) == (1, "")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has died; its parent (gone) could not reap it yet


def test_a_worker_that_fails_to_start_lets_go_and_tries_again(adapters, make_render):
    """Before, a failure while recovering killed the worker's thread with the lock held:
    renders stayed queued for good."""

    class BusyOnce(SqliteRenderQueue):
        failed = False

        def recover(self):
            if not BusyOnce.failed:
                BusyOnce.failed = True
                raise sqlite3.OperationalError("database is locked")
            return super().recover()

    render = queued(adapters, make_render)
    local = LocalWorker(adapters, BusyOnce(adapters.queue._db), command=KILLED)
    local.start()
    try:
        deadline = time.monotonic() + 15
        while adapters.records.get_render(render.id).error is None:  # the killed job's attempt, settled
            assert time.monotonic() < deadline, "the worker never came back after its failed start"
            time.sleep(0.1)
    finally:
        local.stop()
    assert BusyOnce.failed
