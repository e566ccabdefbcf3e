"""A book's reel in cloud mode on the emulators: the site publishes the reel's request to
Pub/Sub, the trigger starts the Cloud Run job (a local fake of the Admin API), the job
fetches the clips from Cloud Storage and joins them, and the reel plays from a signed URL
with its merged subtitles from the site's own origin."""

import urllib.request

import pytest

from animate_job.trigger import Dispatcher
from frontend_service import create_app
from infra.domain.subtitles import Cue
from tests.cloud.conftest import pull, push_of, run_job, signed_adapters, usage_until
from tests.cloud.test_trigger import JOB, FakeCloudRun
from tests.conftest import ApiClient, stored_render
from tests.media import probe
from tests.render.test_reel import BLUE, HEIGHT, RED, WIDTH, clip_spec, solid_clip
from tests.web.test_books import add_scene, finished_clip, new_book

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def test_a_reel_made_in_cloud_mode(cloud, httpserver, tmp_path):
    # The clips' files are made before any gRPC client: ffmpeg started from a process while
    # gRPC's threads run left later ffmpeg runs in the session with broken pipes.
    red, blue = solid_clip(tmp_path / "red.mp4", RED, clip_spec()), solid_clip(tmp_path / "blue.mp4", BLUE, clip_spec())
    adapters = signed_adapters(cloud)
    api = ApiClient(create_app({"TESTING": True}, adapters).test_client())

    # The book in Firestore, its two scenes' finished clips in Cloud Storage.
    book = new_book(api)
    one, two = add_scene(api, book["id"], "Part One"), add_scene(api, book["id"], "Part Two")
    finished_clip(adapters, api, one["id"], tmp_path, words=[Cue(0.0, 5.0, "Он вышел на мост.")], video=red)
    finished_clip(adapters, api, two["id"], tmp_path, words=[Cue(2.0, 4.0, "Нева")], video=blue)
    started = api.post(f"/api/books/{book['id']}/reel")
    assert started.status_code == 202
    reel_id = started.get_json()["render_id"]
    assert stored_render(adapters.records, reel_id).state == "queued"

    # The trigger starts one job execution for the reel's request, as for any render.
    [message] = pull(cloud, "render-requests", 1)
    push = push_of(cloud, message)
    cloud_run = FakeCloudRun(httpserver)
    assert Dispatcher(adapters.records, cloud_run.client, JOB, 3).dispatch(push.render_id()) == "started"
    assert cloud_run.render_ids() == [reel_id]
    job = run_job(cloud, reel_id)
    assert job.returncode == 0, job.stderr

    status = api.get(f"/api/renders/{reel_id}").get_json()
    assert (status["state"], status["duration_s"]) == ("succeeded", 36.0)
    redirect = api.get(status["video_url"])
    assert redirect.status_code == 302 and "X-Goog-Signature=" in redirect.headers["Location"]
    reel = tmp_path / "reel.mp4"
    with urllib.request.urlopen(redirect.headers["Location"]) as response:
        reel.write_bytes(response.read())
    played = probe(reel)
    assert played["size"] == (WIDTH, HEIGHT) and played["duration_s"] == pytest.approx(36.0, abs=0.05)
    track = api.get(status["subtitles_url"])
    assert track.headers["Content-Type"] == "text/vtt; charset=utf-8"
    # Part One's clip from 3 s, Part Two's from 3 + 15 + 3 = 21 s
    assert track.get_data(as_text=True) == (
        "WEBVTT\n\n1\n00:00:03.000 --> 00:00:08.000\nОн вышел на мост.\n\n2\n00:00:23.000 --> 00:00:25.000\nНева\n"
    )

    # The reel's attempt is a usage event, with the job's attached GPU's time.
    [reel_event] = [e for e in usage_until(cloud, "render") if e["kind"] == "render"]
    assert reel_event["render_id"] == reel_id and reel_event["status"] == "succeeded"
    assert reel_event["gpu_seconds"] == reel_event["wall_seconds"] > 0
    # The downloads' events are sent before the emulators go: none is left retrying into later tests.
    assert adapters.usage.flush()
