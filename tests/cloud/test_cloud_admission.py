"""Admission on the cloud path, on the emulators: quotas and rate limits shared by two
instances through Firestore, the spend breaker, and cancelling a render queued,
dispatching (the trigger started its job) or running (the job stops), or finished."""

from __future__ import annotations

import pytest

from animate_job.run import run_render
from animate_job.trigger import Dispatcher
from frontend_service import create_app
from infra.bootstrap import Adapters, bootstrap
from infra.domain.ids import now
from infra.spending import spend_key
from tests.cloud.conftest import usage_until
from tests.cloud.test_trigger import JOB, FakeCloudRun
from tests.conftest import ApiClient, stored_render
from tests.web.test_admission import start, with_storyboard

pytestmark = pytest.mark.emulator


@pytest.fixture(autouse=True)
def fresh_queue_reads(monkeypatch):
    """Each read of the queue afresh: the tests change it between requests."""
    monkeypatch.setattr("frontend_service.admission.CLOUD_QUEUE_SNAPSHOT_S", 0.0)


def instance(cloud, **settings) -> tuple[object, Adapters]:
    """One Cloud Run instance of the site: its own clients over the same emulators."""
    adapters = bootstrap(cloud["settings"].model_copy(update=settings))
    return create_app({"TESTING": True}, adapters), adapters


def test_two_instances_share_one_quota_through_firestore(cloud):
    (first, adapters), (second, _) = (
        instance(cloud, anonymous_daily_render_quota=2),
        instance(cloud, anonymous_daily_render_quota=2),
    )
    statuses = []
    for app in (first, second, first, second):
        jar = ApiClient(app.test_client())  # type: ignore[attr-defined]
        statuses.append(start(jar, with_storyboard(jar)).status_code)
    assert statuses == [202, 202, 429, 429]
    assert adapters.records.count_renders("queued") == 2


def test_two_instances_share_one_rate_limit_through_firestore(cloud):
    apps = [instance(cloud)[0] for _ in range(2)]
    for app in apps:
        app.config["DIALOGUE_RATE_LIMIT"] = "2 per minute"  # type: ignore[attr-defined]
    people = [ApiClient(app.test_client()) for app in (*apps, apps[0])]  # type: ignore[attr-defined]
    assert [person.post("/api/scenes", json={"text": "A lighthouse."}).status_code for person in people] == [
        201,
        201,
        429,
    ]


def test_the_breaker_reads_the_days_spend_from_firestore(cloud):
    app, adapters = instance(cloud, daily_spend_cap_usd=0.25)
    person = ApiClient(app.test_client())  # type: ignore[attr-defined]
    scene_id = with_storyboard(person)
    adapters.counters.add(spend_key(now().date()), 249_999, now().replace(year=now().year + 1))
    assert start(person, scene_id).status_code == 202
    adapters.counters.add(spend_key(now().date()), 1, now())
    refused = start(person, scene_id)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (429, "spend_cap")


@pytest.fixture
def site(cloud, httpserver):
    app, adapters = instance(cloud, anonymous_daily_render_quota=1)
    person = ApiClient(app.test_client())  # type: ignore[attr-defined]
    cloud_run = FakeCloudRun(httpserver)
    return person, adapters, Dispatcher(adapters.records, cloud_run.client, JOB, 3), cloud_run


def test_cancelled_while_queued_its_request_starts_nothing_and_the_quota_comes_back(site):
    person, _adapters, dispatcher, cloud_run = site
    scene_id = with_storyboard(person)
    render_id = start(person, scene_id).get_json()["render_id"]
    assert person.post(f"/api/renders/{render_id}/cancel").get_json()["state"] == "cancelled"
    assert dispatcher.dispatch(render_id) == "ignored"  # Pub/Sub's delivery of the request
    assert cloud_run.render_ids() == []
    assert start(person, scene_id).status_code == 202


def test_cancelled_while_dispatching_its_job_stops_before_rendering(site):
    person, adapters, dispatcher, _cloud_run = site
    render_id = start(person, with_storyboard(person)).get_json()["render_id"]
    assert dispatcher.dispatch(render_id) == "started"
    assert stored_render(adapters.records, render_id).state == "dispatching"
    assert person.post(f"/api/renders/{render_id}/cancel").get_json()["state"] == "cancelled"

    def must_not_load(base, adapter):
        raise AssertionError("a cancelled render was rendered")

    # The execution the trigger asked for starts anyway, and leaves at once.
    assert run_render(render_id, bootstrap(adapters.settings), load_renderer=must_not_load) == 0
    assert stored_render(adapters.records, render_id).state == "cancelled"


def test_cancelled_while_running_the_job_stops_deletes_what_it_stored_and_says_so(site, cloud, tiny_renderer):
    person, adapters, dispatcher, _ = site
    scene_id = with_storyboard(person)
    render_id = start(person, scene_id, json={"preset": "draft"}).get_json()["render_id"]
    dispatcher.dispatch(render_id)
    job = bootstrap(adapters.settings)  # the job's own clients, as in its container
    bucket = job.storage._bucket  # type: ignore[attr-defined]
    mark_succeeded = job.records.mark_succeeded

    def cancelled_once_stored(render_id_, runner, artifacts, timings):
        # The clip is in Cloud Storage, not yet recorded: the owner cancels now.
        assert len(list(bucket.list_blobs(prefix=f"renders/{render_id}/"))) == 4
        assert person.post(f"/api/renders/{render_id}/cancel").get_json()["state"] == "cancelled"
        return mark_succeeded(render_id_, runner, artifacts, timings)

    job.records.mark_succeeded = cancelled_once_stored  # type: ignore[method-assign]
    assert run_render(render_id, job, load_renderer=lambda base, adapter: tiny_renderer) == 0
    render = stored_render(adapters.records, render_id)
    assert (render.state, render.artifacts) == ("cancelled", {})
    assert list(bucket.list_blobs(prefix=f"renders/{render_id}/")) == []  # nothing half-stored
    [attempt] = [event for event in usage_until(cloud, "render") if event["kind"] == "render"]
    assert (attempt["render_id"], attempt["status"]) == (render_id, "cancelled")
    # Its cost is in the day's spend, in micro-dollars.
    assert adapters.counters.value(spend_key(now().date())) == round(attempt["cost_usd"] * 1_000_000)
    assert start(person, scene_id).status_code == 202  # the quota came back


def test_a_finished_render_cannot_be_cancelled(site):
    person, adapters, _dispatcher, _ = site
    render_id = start(person, with_storyboard(person)).get_json()["render_id"]
    adapters.records.mark_running(render_id, 1, "r")
    adapters.records.mark_succeeded(render_id, "r", {}, {"render_s": 3.0})
    assert person.post(f"/api/renders/{render_id}/cancel").status_code == 409
    assert stored_render(adapters.records, render_id).state == "succeeded"
