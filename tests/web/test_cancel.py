"""Cancelling a render at each state, through the site and the render job on one machine:
the job stops, nothing is left stored, the attempt's usage says 'cancelled', the quota
comes back. (The cloud path, dispatching included: tests/cloud/test_cloud_admission.py.)"""

from __future__ import annotations

import pytest

from animate_job.run import run_render
from tests.conftest import ApiClient, signed_in, stored_render
from tests.usage import stored_events
from tests.web.test_admission import start, with_storyboard


@pytest.fixture
def one_a_day(adapters):
    adapters.settings.anonymous_daily_render_quota = 1


def render_events(adapters) -> list[dict]:
    return [event for event in stored_events(adapters) if event["kind"] == "render"]


def stored_files(adapters) -> list:
    return [path for path in adapters.storage.root.rglob("*") if path.is_file()]


def test_cancelling_a_running_render_stops_its_job_which_stores_nothing(api, adapters, one_a_day, tiny_renderer):
    scene_id = with_storyboard(api)
    render_id = start(api, scene_id, json={"preset": "draft"}).get_json()["render_id"]

    def load_then_cancel(base, adapter):
        # The job holds the render (running) while it loads; the owner cancels meanwhile.
        assert stored_render(adapters.records, render_id).state == "running"
        assert api.post(f"/api/renders/{render_id}/cancel").get_json()["state"] == "cancelled"
        return tiny_renderer

    assert run_render(render_id, adapters, load_renderer=load_then_cancel) == 0
    assert stored_render(adapters.records, render_id).state == "cancelled"
    assert stored_files(adapters) == []
    [event] = render_events(adapters)
    assert (event["kind"], event["render_id"], event["status"]) == ("render", render_id, "cancelled")
    assert event["cost_usd"] > 0  # the time it ran is still paid for
    assert start(api, scene_id).status_code == 202  # the quota came back


def test_a_render_cancelled_after_its_files_were_stored_deletes_them(api, adapters, one_a_day, tiny_renderer):
    render_id = start(api, with_storyboard(api), json={"preset": "draft"}).get_json()["render_id"]
    records = adapters.records
    mark_succeeded = records.mark_succeeded

    def cancelled_just_before(render_id_, runner, artifacts, timings):
        assert all(adapters.storage.exists(key) for key in artifacts.values())  # stored, not yet recorded
        assert api.post(f"/api/renders/{render_id_}/cancel").status_code == 200
        return mark_succeeded(render_id_, runner, artifacts, timings)

    records.mark_succeeded = cancelled_just_before
    assert run_render(render_id, adapters, load_renderer=lambda base, adapter: tiny_renderer) == 0
    render = stored_render(records, render_id)
    assert (render.state, render.artifacts) == ("cancelled", {})
    assert stored_files(adapters) == []  # nothing half-stored
    assert [event["status"] for event in render_events(adapters)] == ["cancelled"]


def test_a_cancelled_render_is_never_started(api, adapters, tiny_renderer):
    render_id = start(api, with_storyboard(api)).get_json()["render_id"]
    api.post(f"/api/renders/{render_id}/cancel")

    def must_not_load(base, adapter):
        raise AssertionError("a cancelled render was rendered")

    assert run_render(render_id, adapters, load_renderer=must_not_load) == 0
    assert stored_render(adapters.records, render_id).state == "cancelled" and render_events(adapters) == []


def test_the_local_worker_settles_a_request_whose_render_was_cancelled_while_it_ran(api, adapters):
    import sys

    from infra.local_worker import LocalWorker
    from infra.queue.sqlite import SqliteRenderQueue

    render_id = start(api, with_storyboard(api)).get_json()["render_id"]
    assert isinstance(adapters.queue, SqliteRenderQueue)
    # A stand-in job that is cancelled by its owner while it runs, and exits as the job does then.
    cancel_and_exit = [sys.executable, "-c", "import sys; sys.exit(0)"]
    worker = LocalWorker(adapters, adapters.queue, command=cancel_and_exit)
    delivery = adapters.queue.claim()
    assert delivery is not None
    adapters.records.mark_running(render_id, 1, "r")
    assert api.post(f"/api/renders/{render_id}/cancel").status_code == 200
    adapters.queue.release(render_id)  # as if still to run: the worker delivers it again
    assert worker.run_once()
    assert adapters.queue.depth() == 0 and stored_render(adapters.records, render_id).state == "cancelled"


def test_signing_in_between_start_and_cancel_does_not_buy_the_render_back(app, api, adapters, one_a_day):
    """Anonymous, the render's job starts; signed in, it is the account's; cancelled, then
    signed out: a new anonymous session at the same address is out of today's one render.
    The counters the render took were the visitor's and the address's, never the account's,
    so no allowance of the account's can count a give-back: the render is not given back."""
    scene_id = with_storyboard(api)
    render_id = start(api, scene_id).get_json()["render_id"]
    adapters.records.mark_running(render_id, 1, "r")  # its job started: GPU time is being spent
    account = signed_in(app, "mallory@example.com", client=api.client)
    assert account.post(f"/api/renders/{render_id}/cancel").get_json()["state"] == "cancelled"
    assert account.post("/signout").status_code == 302
    again = ApiClient(api.client)  # the same browser, anonymous again: a new visitor's cookie
    answer = start(again, with_storyboard(again))
    assert answer.status_code == 429 and answer.get_json()["error"]["code"] == "quota"


def test_a_render_whose_job_starts_as_it_is_cancelled_counts_its_give_back(api, adapters, monkeypatch):
    """Read as queued, started by its job a moment later, then cancelled: GPU time was spent,
    so the give-back is counted against the day's allowance, as for any started render."""
    render_id = start(api, with_storyboard(api)).get_json()["render_id"]
    cancel = adapters.records.cancel

    def started_first(render_id: str):
        assert adapters.records.mark_running(render_id, 1, "r")  # the job, between the read and the cancel
        return cancel(render_id)

    monkeypatch.setattr(adapters.records, "cancel", started_first)
    assert api.post(f"/api/renders/{render_id}/cancel").get_json()["state"] == "cancelled"
    render = stored_render(adapters.records, render_id)
    allowance = [adapters.counters.value(f"give-backs:{key}") for key in render.quota]
    assert allowance == [1, 1]  # one of today's give-backs spent, for each counter it took
    assert [adapters.counters.value(key) for key in render.quota] == [0, 0]  # and the render given back


def test_a_render_queued_again_after_an_attempt_counts_its_give_back(api, adapters):
    """Its attempt stopped and put it back for the job's retry: queued, its GPU time spent."""
    render_id = start(api, with_storyboard(api)).get_json()["render_id"]
    assert adapters.records.mark_running(render_id, 1, "job")
    assert adapters.records.requeue(render_id, runner="job")  # as the job does when an attempt stops
    assert stored_render(adapters.records, render_id).state == "queued"
    assert api.post(f"/api/renders/{render_id}/cancel").get_json()["state"] == "cancelled"
    render = stored_render(adapters.records, render_id)
    assert [adapters.counters.value(f"give-backs:{key}") for key in render.quota] == [1, 1]
    assert [adapters.counters.value(key) for key in render.quota] == [0, 0]


def test_give_backs_for_renders_cancelled_after_they_started_last_only_as_long_as_the_quota(api, adapters, one_a_day):
    """Start, let it run, cancel, start again: the GPU time is spent each time, so a day's
    quota of one buys back one such cancel, not an endless loop of them."""
    scene_id = with_storyboard(api)
    for expected_next in (202, 429):
        render_id = start(api, scene_id).get_json()["render_id"]
        adapters.records.mark_running(render_id, 1, "r")  # its job started: GPU time is being spent
        assert api.post(f"/api/renders/{render_id}/cancel").get_json()["state"] == "cancelled"
        assert start(api, scene_id).status_code == expected_next
        if expected_next == 202:  # the render that came back; cancelled while still queued: free
            queued = adapters.records.list_renders(stored_render(adapters.records, render_id).user_id)[0]
            assert api.post(f"/api/renders/{queued.id}/cancel").status_code == 200
