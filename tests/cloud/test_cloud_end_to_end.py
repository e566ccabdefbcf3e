"""Cloud mode end to end on the emulators: the site publishes, the trigger starts the job
(a local fake of the Cloud Run Admin API), the job runs as Cloud Run would run it, and the
clip plays from Cloud Storage through a signed URL."""

import urllib.parse
import urllib.request

import pytest

from animate_job.trigger import Dispatcher
from frontend_service import create_app
from tests.cloud.conftest import pull, push_of, run_job, signed_adapters, usage_until
from tests.cloud.test_trigger import JOB, FakeCloudRun
from tests.conftest import ROOT, ApiClient, stored_render
from tests.media import probe

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def test_a_clip_made_in_cloud_mode(cloud, httpserver):
    adapters = signed_adapters(cloud)
    api = ApiClient(create_app({"TESTING": True}, adapters).test_client())

    # The website: a scene, its storyboard, a render request published to Pub/Sub.
    passage = "The storm broke over the rock. The keeper climbed the stairs. The lamp burned on."
    scene = api.post("/api/scenes", json={"text": "A lighthouse in a storm at night.", "passage": passage}).get_json()
    storyboard = api.post(f"/api/scenes/{scene['id']}/finish").get_json()["storyboard"]
    assert all(shot["quote"] in passage for shot in storyboard["shots"])
    # Upright, for a phone: the frame's shape travels in the spec through Firestore to the job.
    assert api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard | {"aspect": "9:16"}).status_code == 200
    render_id = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft"}).get_json()["render_id"]
    assert stored_render(adapters.records, render_id).state == "queued"

    # The trigger: the Pub/Sub message starts one job execution with RENDER_ID.
    [message] = pull(cloud, "render-requests", 1)
    push = push_of(cloud, message)
    cloud_run = FakeCloudRun(httpserver)
    assert Dispatcher(adapters.records, cloud_run.client, JOB, 3).dispatch(push.render_id()) == "started"
    assert cloud_run.render_ids() == [render_id]

    # Cloud Run runs the job with RENDER_ID and its task attempt, here as a subprocess.
    job = run_job(cloud, render_id)
    assert job.returncode == 0, job.stderr

    # The result: succeeded in Firestore, the clip in Cloud Storage behind a signed URL.
    status = api.get(f"/api/renders/{render_id}").get_json()
    assert status["state"] == "succeeded" and stored_render(adapters.records, render_id).attempts == 1
    redirect = api.get(status["video_url"])
    assert redirect.status_code == 302 and "X-Goog-Signature=" in redirect.headers["Location"]
    clip = ROOT / "test-artifacts" / f"cloud-{render_id}.mp4"
    clip.parent.mkdir(exist_ok=True)
    with urllib.request.urlopen(redirect.headers["Location"]) as response:
        clip.write_bytes(response.read())
    played = probe(clip)
    assert played["duration_s"] == pytest.approx(15.0) and played["size"] == (64, 112)
    clip.unlink()
    download = urllib.parse.urlparse(api.get(status["download_url"]).headers["Location"])
    disposition = urllib.parse.parse_qs(download.query)["response-content-disposition"]
    assert disposition == ['attachment; filename="a-lighthouse-in-a-storm-at-night.mp4"']

    # The book's words: the track from the site's own origin, the burned-in copy from Cloud Storage.
    track = api.get(status["subtitles_url"])
    assert track.status_code == 200 and track.headers["Content-Type"] == "text/vtt; charset=utf-8"
    vtt = track.get_data(as_text=True)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.000 --> ") and storyboard["shots"][0]["quote"] in vtt
    subtitled = api.get(status["download_subtitled_url"]).headers["Location"]
    disposition = urllib.parse.parse_qs(urllib.parse.urlparse(subtitled).query)["response-content-disposition"]
    assert disposition == ['attachment; filename="a-lighthouse-in-a-storm-at-night-subtitled.mp4"']
    with urllib.request.urlopen(subtitled) as response:
        clip.write_bytes(response.read())
    burned = probe(clip)
    assert burned["size"] == (64, 112) and burned["duration_s"] == pytest.approx(15.0)
    clip.unlink()

    # Usage events went to the usage topic, as the BigQuery subscription will read them.
    events = usage_until(cloud, "render")
    assert {e["kind"] for e in events} >= {"dialogue_turn", "render"}
    [render_event] = [e for e in events if e["kind"] == "render"]
    assert render_event["render_id"] == render_id and render_event["status"] == "succeeded"
