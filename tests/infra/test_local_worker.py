"""The local worker: one render at a time in a subprocess, retries, crashes, restarts."""

import sys

import pytest

from infra.local_worker import LocalWorker

# Stand-ins for the render job, as small programs with the job's command-line shape.
FAILS = [sys.executable, "-c", "import sys; print('error: the GPU caught fire', file=sys.stderr); sys.exit(1)"]
KILLED = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]


def queued(adapters, make_render):
    render = make_render()
    adapters.queue.submit(render.id)
    return render


@pytest.mark.slow
def test_runs_the_real_job_to_a_finished_clip(adapters, make_render, monkeypatch):
    monkeypatch.setenv("ANIMBOOKS_DEVICE", "cpu")
    render = queued(adapters, make_render)
    worker = LocalWorker(adapters)
    assert worker.run_once()
    assert adapters.records.get_render(render.id).state == "succeeded"
    assert adapters.queue.depth() == 0
    assert not worker.run_once()


def test_a_crashing_job_is_retried_then_failed_with_its_last_words(adapters, make_render):
    render = queued(adapters, make_render)
    adapters.records.mark_running(render.id, 1)  # as the job does before it crashes
    worker = LocalWorker(adapters, command=FAILS)
    worker.run_once()
    assert adapters.records.get_render(render.id).state == "queued"
    adapters.records.mark_running(render.id, 2)
    worker.run_once()
    failed = adapters.records.get_render(render.id)
    assert failed.state == "failed"
    assert failed.error == "the render process stopped unexpectedly (exit status 1): error: the GPU caught fire"
    assert adapters.queue.depth() == 0


def test_a_killed_job_is_retried(adapters, make_render):
    render = queued(adapters, make_render)
    adapters.records.mark_running(render.id, 1)
    LocalWorker(adapters, command=KILLED).run_once()
    stored = adapters.records.get_render(render.id)
    assert stored.state == "queued" and "exit status -9" in stored.error
    assert adapters.queue.claim().attempt == 2


def test_a_restarted_worker_requeues_what_a_dead_one_held(adapters, make_render):
    render = queued(adapters, make_render)
    adapters.queue.claim()  # a worker claimed it, started the job...
    adapters.records.mark_running(render.id, 1)  # ...and died with it
    worker = LocalWorker(adapters)
    assert worker.acquire()
    try:
        assert adapters.records.get_render(render.id).state == "queued"
        assert adapters.queue.claim().render_id == render.id
    finally:
        worker.stop()


def test_only_one_worker_per_data_folder(adapters):
    first, second = LocalWorker(adapters), LocalWorker(adapters)
    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.stop()
    assert second.acquire()
    second.stop()


def test_the_job_is_told_its_attempt_and_data_folder(adapters, make_render, tmp_path):
    render = queued(adapters, make_render)
    report = tmp_path / "seen"
    spy = [
        sys.executable,
        "-c",
        f"import os, sys; open({str(report)!r}, 'w').write(os.environ['ANIMBOOKS_RENDER_ATTEMPT'] + ' ' + "
        "os.environ['ANIMBOOKS_DATA_DIR'] + ' ' + sys.argv[1])",
    ]
    LocalWorker(adapters, command=spy).run_once()
    assert report.read_text() == f"1 {adapters.settings.data_dir} {render.id}"
