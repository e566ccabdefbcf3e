"""The JSON API end to end: a new scene to a downloaded 15-second MP4, as a script would drive it."""

import json

import pytest

from infra.domain.pricing import egress_cost
from infra.local_worker import LocalWorker
from tests.media import probe
from tests.usage import stored_events


def test_session_gives_a_user_and_a_csrf_token(client):
    body = client.get("/api/session").get_json()
    assert body["user"].startswith("anon-") and len(body["user"]) == 37 and body["csrf_token"]
    assert client.get("/api/session").get_json()["user"] == body["user"]  # the cookie keeps the user


@pytest.mark.slow
def test_from_a_scene_to_a_downloaded_clip(api, adapters, tmp_path):
    scene = api.post(
        "/api/scenes", json={"text": "Raskolnikov crosses the Neva at dusk.", "book": "Crime and Punishment"}
    )
    assert scene.status_code == 201
    body = scene.get_json()
    assert body["state"] == "asking" and body["engine"] == "offline" and body["storyboard"] is None
    assert 1 <= len(body["questions"]) <= 3
    answers = {question["id"]: "he stops on the bridge and stares at the water" for question in body["questions"]}
    body = api.post(f"/api/scenes/{body['id']}/answers", json={"answers": answers}).get_json()
    assert body["state"] == "ready" and 3 <= len(body["storyboard"]["shots"]) <= 5

    started = api.post(f"/api/scenes/{body['id']}/renders", json={"preset": "draft"})
    assert started.status_code == 202
    render_id = started.get_json()["render_id"]
    assert api.get(f"/api/renders/{render_id}").get_json()["state"] == "queued"

    assert LocalWorker(adapters, adapters.queue).run_once()  # the real job, as a subprocess

    status = api.get(f"/api/renders/{render_id}").get_json()
    assert status["state"] == "succeeded" and status["progress"] == 1.0 and status["duration_s"] == 15.0
    with api.get(status["video_url"]) as video:  # file responses stay open until closed
        assert video.status_code == 200 and video.mimetype == "video/mp4"
    with api.get(status["video_url"], headers={"Range": "bytes=0-1023"}) as partial:
        assert partial.status_code == 206 and len(partial.data) == 1024
    clip = tmp_path / "downloaded.mp4"
    with api.get(status["download_url"]) as download:
        assert download.headers["Content-Disposition"] == "attachment; filename=crime-and-punishment.mp4"
        clip.write_bytes(download.data)
    assert probe(clip)["duration_s"] == pytest.approx(15.0)
    with api.get(status["poster_url"]) as poster:
        assert poster.mimetype == "image/jpeg"
    kinds = [event["kind"] for event in stored_events(adapters)]
    assert kinds.count("dialogue_turn") == 2 and "render" in kinds and "download" in kinds
    [download_event] = [event for event in stored_events(adapters) if event["kind"] == "download"]
    size = clip.stat().st_size
    assert json.loads(download_event["attributes"]) == {"bytes": size}
    assert download_event["cost_usd"] == pytest.approx(egress_cost(size)) and download_event["cost_usd"] > 0


def test_skip_to_the_storyboard(api):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    assert scene["state"] == "asking"
    body = api.post(f"/api/scenes/{scene['id']}/finish").get_json()
    assert body["state"] == "ready" and body["storyboard"]["shots"][0]["start_s"] == 0


def test_an_edited_storyboard_is_stored(api, storyboard_data):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    saved = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data)
    assert saved.status_code == 200
    assert saved.get_json()["storyboard"]["title"] == storyboard_data["title"]
    assert api.get(f"/api/scenes/{scene['id']}").get_json()["storyboard"]["seed"] == 1866


def test_an_invalid_storyboard_gets_field_errors_and_changes_nothing(api, storyboard_data):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    before = api.get(f"/api/scenes/{scene['id']}").get_json()
    storyboard_data["shots"][1]["start_s"] = 0.5
    storyboard_data["shots"][2]["prompt"] = ""
    response = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert {"field": "shots.2.prompt", "message": "this must not be empty"} in error["fields"]
    assert api.get(f"/api/scenes/{scene['id']}").get_json() == before


def test_rendering_needs_a_storyboard_first(api):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    response = api.post(f"/api/scenes/{scene['id']}/renders", json={})
    assert response.status_code == 409
    assert "no storyboard yet" in response.get_json()["error"]["message"]


def test_an_unknown_preset_is_refused(api):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    response = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "ultra"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["field"] == "preset"


def test_other_peoples_scenes_and_renders_do_not_exist(app, api, adapters, make_render):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    stranger = app.test_client()
    assert stranger.get(f"/api/scenes/{scene['id']}").status_code == 404
    render = make_render(user_id="someone-else")
    assert api.get(f"/api/renders/{render.id}").status_code == 404
    assert api.get(f"/renders/{render.id}/files/video").status_code == 404


def test_the_daily_quota_says_when_it_resets(app, api, adapters):
    adapters.settings.anonymous_daily_render_quota = 1  # the script is an anonymous visitor
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    assert api.post(f"/api/scenes/{scene['id']}/renders", json={}).status_code == 202
    refused = api.post(f"/api/scenes/{scene['id']}/renders", json={})
    assert refused.status_code == 429
    message = refused.get_json()["error"]["message"]
    assert message.startswith("You have started 1 render today, the daily limit. It resets at 00:00 UTC, in ")
    assert 0 < int(refused.headers["Retry-After"]) <= 86400
    assert adapters.queue.depth() == 1  # the refused request left nothing behind


def test_dialogue_is_rate_limited(app, api):
    app.config["DIALOGUE_RATE_LIMIT"] = "2 per minute"
    codes = [api.post("/api/scenes", json={"text": "A lighthouse."}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_limits_hold_in_an_app_made_after_one_without_them(adapters):
    from frontend_service import create_app
    from tests.conftest import ApiClient

    create_app({"TESTING": True, "START_WORKER": False, "RATELIMIT_ENABLED": False}, adapters)
    app = create_app({"TESTING": True, "START_WORKER": False, "DIALOGUE_RATE_LIMIT": "2 per minute"}, adapters)
    api = ApiClient(app.test_client())
    codes = [api.post("/api/scenes", json={"text": "A lighthouse."}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_prompt_token_counter(api):
    body = api.post("/api/prompt-tokens", json={"texts": ["a cat", "lantern " * 40]}).get_json()
    assert body["limit"] == 77 and body["method"] == "estimated"
    assert body["counts"][0] == 4 and body["counts"][1] > 77


def test_health_and_metrics(client, admin, make_render, adapters):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    adapters.queue.submit(make_render().id)
    metrics = admin.get("/metrics")
    assert metrics.content_type.startswith("text/plain; version=")
    text = metrics.get_data(as_text=True)
    assert "animbooks_render_queue_depth 1.0" in text
    assert 'animbooks_renders{state="queued"} 1.0' in text
    assert "animbooks_request_seconds_bucket" in text
    assert "animbooks_render_seconds_count 0.0" in text


def test_metrics_show_how_long_renders_took(admin, adapters, make_render):
    for seconds in (4.0, 12.0, 45.0):
        render = make_render()
        adapters.records.mark_running(render.id, 1, "r")
        adapters.records.mark_succeeded(render.id, "r", {}, {"render_s": seconds})
    text = admin.get("/metrics").get_data(as_text=True)
    assert 'animbooks_render_seconds_bucket{le="5.0"} 1.0' in text
    assert 'animbooks_render_seconds_bucket{le="60.0"} 3.0' in text
    assert "animbooks_render_seconds_sum 61.0" in text
    assert 'animbooks_renders{state="succeeded"} 3.0' in text


def test_the_aspect_goes_from_the_storyboard_to_the_render(api, storyboard_data):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    saved = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data | {"aspect": "16:9"})
    assert saved.status_code == 200 and saved.get_json()["storyboard"]["aspect"] == "16:9"
    started = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft"})
    render = api.get(f"/api/renders/{started.get_json()['render_id']}").get_json()
    assert (render["aspect"], render["width"], render["height"]) == ("16:9", 112, 64)  # the tiny model's 16:9


@pytest.mark.parametrize("aspect", ["4:3", "wide", 16, None])
def test_an_unknown_aspect_is_a_422_that_names_the_three(api, storyboard_data, aspect):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    before = api.get(f"/api/scenes/{scene['id']}").get_json()
    response = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data | {"aspect": aspect})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == [
        {"field": "aspect", "message": "this must be one of: '16:9', '9:16' or '1:1'"}
    ]
    assert api.get(f"/api/scenes/{scene['id']}").get_json() == before
