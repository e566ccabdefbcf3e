"""Plans and longer clips in cloud mode (issue 17), on the emulators: an admin stores a plan
in Firestore and puts an account (signed in with Google, a local OpenID provider) on it;
the account's 30-second storyboard is refused before and rendered after, by the trigger and
the job as Cloud Run runs them, into a 30-second clip in Cloud Storage; its usage event on
the Avro topic carries the clip's seconds."""

from __future__ import annotations

import urllib.request

import pytest

from animate_job.trigger import Dispatcher
from frontend_service import create_app
from tests.cloud.conftest import pull, run_job, signed_adapters, usage_until, with_google_signin
from tests.cloud.test_trigger import JOB, FakeCloudRun
from tests.conftest import ADMIN_EMAIL, ApiClient, stored_render
from tests.media import probe
from tests.web.oidc_provider import Provider

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def test_a_thirty_second_clip_for_an_account_on_a_plan(cloud, httpserver, tmp_path):
    provider = Provider(httpserver, redirect_uri="http://localhost/signin/google/callback").install()
    adapters = signed_adapters(cloud, with_google_signin(cloud, provider))
    app = create_app({"TESTING": True}, adapters)

    def with_google(subject: str, email: str) -> ApiClient:
        provider.user = {"sub": subject, "email": email, "email_verified": True, "name": email.split("@")[0]}
        client = app.test_client()
        start = client.get("/signin/google")
        assert client.get(provider.follow(start.headers["Location"])).status_code == 302
        return ApiClient(client)

    sonya = with_google("1", "sonya@example.com")
    scene = sonya.post("/api/scenes", json={"text": "A lighthouse in a storm at night."}).get_json()
    storyboard = sonya.post(f"/api/scenes/{scene['id']}/finish").get_json()["storyboard"]
    longer = storyboard | {"clip_seconds": 30, "shots": [*storyboard["shots"], {"start_s": 25, "prompt": "dawn"}]}

    # On the free plan: refused, naming the lengths, and nothing stored in Firestore.
    refused = sonya.put(f"/api/scenes/{scene['id']}/storyboard", json=longer)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"][0]["message"].startswith("your plan allows clips of 15 s, not 30 s")
    assert sonya.get(f"/api/scenes/{scene['id']}").get_json()["storyboard"]["clip_seconds"] == 15

    # The admin stores a plan and puts her on it: both in Firestore.
    admin = with_google("2", ADMIN_EMAIL)
    assert admin.put("/api/plans/studio", json={"clip_seconds": [15, 30, 60], "daily_renders": 3}).status_code == 200
    assert admin.put("/api/plans/accounts/google:1", json={"plan": "studio"}).get_json()["plan"] == "studio"
    assert admin.put("/api/plans/accounts/google:404", json={"plan": "studio"}).status_code == 404
    user = adapters.records.get_user("google:1")
    assert user is not None and user.plan == "studio"
    assert sonya.get("/api/session").status_code == 200

    saved = sonya.put(f"/api/scenes/{scene['id']}/storyboard", json=longer)
    assert saved.status_code == 200, saved.get_json()
    render_id = sonya.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft"}).get_json()["render_id"]
    spec = stored_render(adapters.records, render_id).spec
    assert (spec.duration_s, spec.frames) == (30, 240)

    # The trigger starts the job, which makes the clip as Cloud Run would run it.
    pull(cloud, "render-requests", 1)
    cloud_run = FakeCloudRun(httpserver)
    assert Dispatcher(adapters.records, cloud_run.client, JOB, 3).dispatch(render_id) == "started"
    job = run_job(cloud, render_id)
    assert job.returncode == 0, job.stderr
    status = sonya.get(f"/api/renders/{render_id}").get_json()
    assert status["state"] == "succeeded" and status["duration_s"] == 30
    clip = tmp_path / "clip.mp4"
    with urllib.request.urlopen(sonya.get(status["video_url"]).headers["Location"]) as response:
        clip.write_bytes(response.read())
    played = probe(clip)
    assert played["duration_s"] == pytest.approx(30.0) and played["frames"] == 240

    # The render's usage event, as the BigQuery subscription reads it, says how long the clip is.
    [render_event] = [event for event in usage_until(cloud, "render") if event["kind"] == "render"]
    assert (render_event["render_id"], render_event["clip_seconds"], render_event["frames"]) == (render_id, 30, 240)
