"""Faults in cloud mode, on the emulators: a job killed mid-render, a web restart."""

import signal
import subprocess
import sys
import time

import pytest
from google.cloud import storage  # type: ignore[attr-defined]  # no type information

from frontend_service import create_app
from infra.bootstrap import bootstrap
from infra.domain.render import Render
from infra.domain.storyboard import Storyboard, resolve_spec
from tests.cloud.conftest import job_environment, run_job
from tests.conftest import ROOT, ApiClient, stored_render

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def test_a_job_killed_mid_render_is_finished_by_the_retry_with_one_clip(cloud, storyboard_data):
    adapters = bootstrap(cloud["settings"])
    # 128x128: long enough a render to be killed in the middle of it.
    spec = resolve_spec(Storyboard.model_validate(storyboard_data), "draft", width=128, height=128)
    render = Render(user_id="reader", spec=spec)
    adapters.records.create_render(render)

    first = subprocess.Popen(
        [sys.executable, "-m", "animate_job", "run"],
        env=job_environment(cloud, render.id, 0),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while stored_render(adapters.records, render.id).state != "running":
        assert first.poll() is None and time.monotonic() < deadline, "the first attempt never started"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # Cloud Run's task dies: no goodbye, no cleanup
    first.wait(timeout=30)
    killed = stored_render(adapters.records, render.id)
    assert (killed.state, killed.attempts) == ("running", 1)

    retry = run_job(cloud, render.id, 1, timeout=240)
    assert retry.returncode == 0, retry.stderr
    done = stored_render(adapters.records, render.id)
    assert (done.state, done.attempts, done.progress, done.error) == ("succeeded", 2, 1.0, None)
    objects = sorted(
        b.name
        for b in storage.Client(project=cloud["settings"].gcp_project).list_blobs(
            cloud["settings"].renders_bucket, prefix=f"renders/{render.id}/"
        )
    )
    assert objects == [  # one clip: the retry's, under its own runner token
        f"renders/{render.id}/{done.runner}/{name}"
        for name in ("clip.metadata.json", "clip.mp4", "clip.poster.jpg", "clip.preview.webp")
    ]

    # A late third delivery of the same render does nothing.
    again = run_job(cloud, render.id, 2, timeout=240)
    assert again.returncode == 0 and stored_render(adapters.records, render.id) == done


def test_a_web_restart_loses_nothing(cloud):
    before = ApiClient(create_app({"TESTING": True}, bootstrap(cloud["settings"])).test_client())
    scene = before.post("/api/scenes", json={"text": "A lighthouse in a storm at night."}).get_json()
    before.post(f"/api/scenes/{scene['id']}/finish")
    render_id = before.post(f"/api/scenes/{scene['id']}/renders", json={}).get_json()["render_id"]
    session_cookie = before.client.get_cookie("session")

    # A new instance, as Cloud Run starts one: fresh adapters, the same cookie from the browser.
    restarted = create_app({"TESTING": True}, bootstrap(cloud["settings"])).test_client()
    restarted.set_cookie("session", session_cookie.value)
    assert restarted.get(f"/api/scenes/{scene['id']}").get_json()["storyboard"] is not None
    assert restarted.get(f"/api/renders/{render_id}").get_json()["state"] == "queued"
