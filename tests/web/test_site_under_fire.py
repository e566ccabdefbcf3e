"""The site as `make run` serves it, under real use: many people at once across gunicorn
workers and render jobs, and the processes that run a render killed mid-render.

Each test starts gunicorn with the site's config over a data folder of its own and
drives it over HTTP like a script would."""

from __future__ import annotations

import collections
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.usage.warehouse import UsageWarehouse
from tests.site import BEHIND_ONE_PROXY, Person, alive, parent_of, render_jobs, running_site

pytestmark = pytest.mark.slow

SCENE = {"text": "Raskolnikov crosses the Neva bridge at dusk, wind over the water."}


def events_of(data_dir) -> list[dict]:
    return UsageWarehouse(data_dir / "usage", data_dir / "usage.duckdb").events()


def start_render(person: Person, preset: str = "draft") -> str:
    status, scene = person.call("POST", "/api/scenes", SCENE)
    assert status == 201, scene
    assert person.call("POST", f"/api/scenes/{scene['id']}/finish")[0] == 200
    status, started = person.call("POST", f"/api/scenes/{scene['id']}/renders", {"preset": preset})
    assert status == 202, started
    return started["render_id"]


def wait_for(person: Person, render_id: str, states: tuple[str, ...], timeout_s: float = 300) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        status, body = person.call("GET", f"/api/renders/{render_id}")
        assert status == 200, body
        if body["state"] in states:
            if body["state"] in ("succeeded", "failed"):  # and its job has recorded its usage and gone
                _wait_until(lambda: not render_jobs(render_id), timeout_s=60)
            return body
        assert time.monotonic() < deadline, f"render {render_id} stayed {body['state']}"
        time.sleep(0.1)


def test_fifty_scenes_and_twenty_downloads_at_once_all_answer_and_every_event_counts(tmp_path):
    """Before, usage went straight into DuckDB from every process: 16 of 50 parallel scene
    creations and 6 of 20 parallel downloads answered 500."""
    # Fifty people, each from an address of their own as Cloud Run's front end would say.
    with running_site(tmp_path / "data", environment={**os.environ, **BEHIND_ONE_PROXY}) as site:
        owners = [Person(site.base, f"198.51.100.{n}") for n in range(3)]
        renders = [start_render(owner) for owner in owners]  # render jobs write usage meanwhile

        def create_scene(number):
            return Person(site.base, f"203.0.113.{number}").call("POST", "/api/scenes", SCENE)[0]

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(create_scene, range(50)))
        assert statuses == [201] * 50
        finished = [
            wait_for(owner, render_id, ("succeeded", "failed"))
            for owner, render_id in zip(owners, renders, strict=True)
        ]
        assert [body["state"] for body in finished] == ["succeeded"] * 3

        def download(_):
            status, body = owners[0].call("GET", finished[0]["download_url"])
            return status, len(body)

        with ThreadPoolExecutor(max_workers=20) as pool:
            downloads = list(pool.map(download, range(20)))
        assert {status for status, _ in downloads} == {200}
    kinds = collections.Counter(event["kind"] for event in events_of(site.data_dir))
    # 3 owners x (scene + finish) + 50 scenes; 3 renders; 20 downloads: each exactly once.
    assert kinds == {"dialogue_turn": 56, "render": 3, "download": 20}


def _wait_until(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


class JobWatch:
    """Samples the render jobs alive on the machine for one render, all through a test."""

    def __init__(self, render_id: str):
        self._render_id, self._stop = render_id, threading.Event()
        self.most_at_once = 0
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.is_set():
            self.most_at_once = max(self.most_at_once, len(render_jobs(self._render_id)))
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.most_at_once


def job_of(render_id: str, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        jobs = render_jobs(render_id)
        if jobs:
            return jobs[0]
        assert time.monotonic() < deadline, "no render job started"
        time.sleep(0.05)


def gone(pid: int, timeout_s: float = 15) -> bool:
    deadline = time.monotonic() + timeout_s
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def assert_rendered_once_after_one_interruption(data_dir, render_id: str) -> None:
    attempts = [e for e in events_of(data_dir) if e["kind"] == "render" and e["render_id"] == render_id]
    assert sorted(e["status"] for e in attempts) == ["interrupted", "succeeded"]


@pytest.mark.parametrize("kill", ["worker", "reload", "group"])
def test_a_render_runs_once_whatever_dies_mid_render(tmp_path, kill):
    """Before, a job outlived its killed worker, the next worker started a second run, both
    finished, and the render was counted twice."""
    data_dir = tmp_path / "data"
    with running_site(data_dir) as site:
        person = Person(site.base)
        render_id = start_render(person, preset="standard")
        watch = JobWatch(render_id)
        wait_for(person, render_id, ("running",))
        first_job = job_of(render_id)
        if kill == "worker":  # the gunicorn worker that holds the local worker, alone
            os.kill(parent_of(first_job), signal.SIGKILL)
        elif kill == "reload":  # a plain gunicorn reload
            site.signal(signal.SIGHUP)
        if kill != "group":
            assert gone(first_job), "the render job outlived its worker"
            done = wait_for(person, render_id, ("succeeded", "failed"))
    if kill == "group":  # everything at once, then `make run` again over the same data
        assert gone(first_job)
        with running_site(data_dir) as site:
            person.base = site.base  # the same person, back with their cookie
            done = wait_for(person, render_id, ("succeeded", "failed"))
    assert watch.stop() == 1  # never two runs of it at once
    assert done["state"] == "succeeded", done
    assert_rendered_once_after_one_interruption(data_dir, render_id)
