"""Under load the person knows where they stand: queue position, estimated start and
finish from measured render times, and the faster preset when the wait is long."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import ApiClient, stored_render
from tests.web.test_admission import start, with_storyboard


@pytest.fixture
def measured(adapters, make_render):
    """Three finished renders timed at 10, 20 and 30 s: a typical render takes 20 s."""
    for seconds in (10.0, 20.0, 30.0):
        render = make_render("someone")
        adapters.records.mark_running(render.id, 1, "r")
        adapters.records.mark_succeeded(render.id, "r", {}, {"render_s": seconds})


@pytest.fixture
def busy(adapters, make_render, measured):
    """Another person's render running since just now, and a third person's waiting."""
    running = make_render("other")
    adapters.records.mark_running(running.id, 1, "r")
    make_render("third")
    return stored_render(adapters.records, running.id)


def test_a_waiting_render_shows_its_place_and_when_it_should_start_and_finish(api, busy, adapters):
    adapters.settings.render_wait_budget_s = 0  # keep the preset asked for
    render_id = start(api, with_storyboard(api)).get_json()["render_id"]
    body = api.get(f"/api/renders/{render_id}").get_json()
    # "third" waits ahead (same turn, older); each render takes the typical 20 s, one at a time.
    assert body["queue_position"] == 1
    assert datetime.fromisoformat(body["estimated_start"]) == busy.started_at + timedelta(seconds=40)
    assert datetime.fromisoformat(body["estimated_finish"]) == busy.started_at + timedelta(seconds=60)


def test_a_running_render_shows_when_it_should_finish(api, measured, adapters):
    render_id = start(api, with_storyboard(api)).get_json()["render_id"]
    adapters.records.mark_running(render_id, 1, "r")
    body = api.get(f"/api/renders/{render_id}").get_json()
    started = stored_render(adapters.records, render_id).started_at
    assert body["queue_position"] == 0
    assert datetime.fromisoformat(body["estimated_finish"]) == started + timedelta(seconds=20)


def test_before_any_render_is_timed_there_is_a_place_and_no_estimate(api, make_render):
    make_render("other")
    render_id = start(api, with_storyboard(api)).get_json()["render_id"]
    body = api.get(f"/api/renders/{render_id}").get_json()
    assert body["queue_position"] == 1 and "estimated_start" not in body


def test_a_finished_render_has_no_place_in_the_queue(api, finished_render):
    body = api.get(f"/api/renders/{finished_render(api).id}").get_json()
    assert {"queue_position", "estimated_start", "estimated_finish"}.isdisjoint(body)


def test_past_the_wait_budget_a_new_render_gets_the_fastest_preset_and_is_told(api, busy, adapters):
    adapters.settings.render_wait_budget_s = 30  # the wait would be about 40 s
    scene_id = with_storyboard(api)
    started = start(api, scene_id, json={"preset": "high"})
    body = started.get_json()
    assert (started.status_code, body["preset"], body["requested_preset"]) == (202, "draft", "high")
    assert "uses the draft preset" in body["notice"] and "keep_preset" in body["notice"]
    render = stored_render(adapters.records, body["render_id"])
    assert (render.spec.preset, render.requested_preset) == ("draft", "high")
    page = api.get(f"/renders/{render.id}").get_data(as_text=True)
    assert "this render uses the faster draft preset" in page and "Wait for high instead" in page


def test_asking_to_keep_the_preset_waits_for_it(api, busy, adapters):
    adapters.settings.render_wait_budget_s = 30
    body = start(api, with_storyboard(api), json={"preset": "high", "keep_preset": True}).get_json()
    assert (body["preset"], body.get("requested_preset"), body.get("notice")) == ("high", None, None)
    page = api.get(f"/renders/{body['render_id']}").get_data(as_text=True)
    assert 'id="faster"' not in page


@pytest.mark.parametrize(("budget", "expected"), [(60, "standard"), (0, "standard")])
def test_within_the_budget_or_with_no_budget_the_preset_stays(api, busy, adapters, budget, expected):
    adapters.settings.render_wait_budget_s = budget
    assert start(api, with_storyboard(api), json={"preset": "standard"}).get_json()["preset"] == expected


def test_keep_preset_is_a_strict_boolean(api):
    refused = start(api, with_storyboard(api), json={"keep_preset": "yes"})
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"][0]["field"] == "keep_preset"


def test_the_render_page_offers_cancel_while_unfinished_and_delete_after(api, finished_render, adapters):
    render_id = start(api, with_storyboard(api)).get_json()["render_id"]
    page = api.get(f"/renders/{render_id}").get_data(as_text=True)
    assert '<section id="progress" aria-live="polite">' in page and 'id="cancel"' in page
    assert 'id="delete" class="secondary" hidden' in page
    api.post(f"/api/renders/{render_id}/cancel")
    page = api.get(f"/renders/{render_id}").get_data(as_text=True)
    assert '<section id="progress" aria-live="polite" hidden>' in page
    assert "This render was cancelled." in page and 'id="delete" class="secondary">' in page
    russian = api.get(f"/renders/{render_id}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Этот рендер отменён" in russian and "Отменить этот рендер" in russian


def test_a_queue_that_another_person_floods_keeps_a_new_persons_render_near_the_front(app, adapters, measured):
    """Ten renders of one person, then one of another: the newcomer is next, not eleventh."""
    adapters.settings.anonymous_daily_render_quota = 20
    adapters.settings.render_wait_budget_s = 0
    app.config["RENDER_RATE_LIMIT"] = "20 per minute"  # both from one address here
    flooder = ApiClient(app.test_client())
    scene_id = with_storyboard(flooder)
    for _ in range(10):
        assert start(flooder, scene_id).status_code == 202
    newcomer = ApiClient(app.test_client())
    render_id = start(newcomer, with_storyboard(newcomer)).get_json()["render_id"]
    assert newcomer.get(f"/api/renders/{render_id}").get_json()["queue_position"] == 1  # behind the first only
    claimed = [adapters.queue.claim().render_id for _ in range(2)]
    assert claimed[1] == render_id
