"""The render trigger with the real Cloud Run client against a local fake of its Admin API."""

import base64
import json

import pytest
from cloudevents.http import CloudEvent
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from werkzeug import Request, Response

from animate_job import trigger
from animate_job.trigger import AtCapacity, Dispatcher, JobNotStarted

JOB = "projects/books/locations/us-central1/jobs/animate-job"


class FakeCloudRun:
    """POST /v2/{job}:run answers a long-running operation, or a scripted error."""

    def __init__(self, server):
        self.runs: list[dict] = []
        self.errors: list[int] = []
        server.expect_request(f"/v2/{JOB}:run", method="POST").respond_with_handler(self._run)
        self.client = run_v2.JobsClient(
            transport="rest",
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=server.url_for("").rstrip("/")),
        )

    def _run(self, request: Request) -> Response:
        if self.errors:
            status = self.errors.pop(0)
            body = {"error": {"code": status, "message": "Quota exceeded for GPU jobs", "status": "RESOURCE_EXHAUSTED"}}
            return Response(json.dumps(body), status=status, content_type="application/json")
        self.runs.append(request.get_json())
        operation = {"name": f"projects/books/locations/us-central1/operations/op{len(self.runs)}", "done": False}
        return Response(json.dumps(operation), content_type="application/json")

    def render_ids(self) -> list[str]:
        return [
            env["value"]
            for run in self.runs
            for o in run["overrides"]["containerOverrides"]
            for env in o["env"]
            if env["name"] == "RENDER_ID"
        ]


@pytest.fixture
def cloud_run(httpserver):
    return FakeCloudRun(httpserver)


@pytest.fixture
def dispatcher(adapters, cloud_run):
    return Dispatcher(adapters.records, cloud_run.client, JOB, max_parallel=2)


def test_a_request_starts_one_job_execution_with_the_render_id(dispatcher, cloud_run, make_render, adapters):
    render = make_render()
    assert dispatcher.dispatch(render.id) == "started"
    assert cloud_run.render_ids() == [render.id]
    assert adapters.records.get_render(render.id).state == "dispatching"


def test_three_deliveries_of_one_request_start_one_job(dispatcher, cloud_run, make_render):
    render = make_render()
    assert [dispatcher.dispatch(render.id) for _ in range(3)] == ["started", "ignored", "ignored"]
    assert cloud_run.render_ids() == [render.id]


def test_at_the_cap_the_request_waits_and_the_render_stays_queued(dispatcher, cloud_run, make_render, adapters):
    first, second, third = make_render(), make_render(), make_render()
    dispatcher.dispatch(first.id)
    dispatcher.dispatch(second.id)
    with pytest.raises(AtCapacity, match="2 renders in progress, the cap is 2"):
        dispatcher.dispatch(third.id)
    assert adapters.records.get_render(third.id).state == "queued"
    adapters.records.mark_running(first.id, 1, "r")
    adapters.records.mark_succeeded(first.id, "r", {}, {})
    assert dispatcher.dispatch(third.id) == "started"  # the redelivery, once a slot is free


def test_quota_from_cloud_run_leaves_the_render_queued_for_the_redelivery(dispatcher, cloud_run, make_render, adapters):
    render = make_render()
    cloud_run.errors.append(429)
    with pytest.raises(JobNotStarted, match="Quota exceeded"):
        dispatcher.dispatch(render.id)
    assert adapters.records.get_render(render.id).state == "queued"
    assert cloud_run.render_ids() == []
    assert dispatcher.dispatch(render.id) == "started"
    assert cloud_run.render_ids() == [render.id]


def test_the_cloud_event_function(dispatcher, cloud_run, make_render, monkeypatch):
    render = make_render()
    monkeypatch.setattr(trigger, "_dispatcher", lambda: dispatcher)
    data = base64.b64encode(json.dumps({"render_id": render.id}).encode()).decode()
    event = CloudEvent(
        {"type": "google.cloud.pubsub.topic.v1.messagePublished", "source": "//pubsub"},
        {"message": {"data": data, "messageId": "1"}, "subscription": "s"},
    )
    trigger.on_render_request(event)
    assert cloud_run.render_ids() == [render.id]


def event_for(render_id: str) -> CloudEvent:
    data = base64.b64encode(json.dumps({"render_id": render_id}).encode()).decode()
    return CloudEvent(
        {"type": "google.cloud.pubsub.topic.v1.messagePublished", "source": "//pubsub"}, {"message": {"data": data}}
    )


def test_a_dead_lettered_request_fails_its_render_with_a_reason(adapters, make_render, monkeypatch):
    monkeypatch.setattr(trigger, "_adapters", lambda: adapters)
    render = make_render()
    trigger.on_dead_letter(event_for(render.id))
    failed = adapters.records.get_render(render.id)
    assert failed.state == "failed" and failed.error == trigger.GAVE_UP
    trigger.on_dead_letter(event_for(render.id))  # a second copy changes nothing
    assert adapters.records.get_render(render.id) == failed


def test_the_sweeper_republishes_stuck_requests_and_fails_overdue_renders(adapters, make_render):
    from datetime import timedelta

    from infra.records import now

    queued, dispatching, running = make_render(), make_render(), make_render()
    adapters.records.mark_dispatching(dispatching.id)
    adapters.records.mark_running(running.id, 1, "r")
    cut = now()  # the three above are older than the cut, the fresh one newer
    fresh = make_render()
    # The sweeper runs so long after the cut that both of its thresholds fall exactly on it.
    ten_minutes = timedelta(minutes=10)
    result = trigger.sweep(adapters.records, adapters.queue, cut + ten_minutes, ten_minutes, ten_minutes)
    assert sorted(result["republished"]) == sorted([queued.id, dispatching.id])
    assert result["timed_out"] == [running.id]
    assert adapters.records.get_render(dispatching.id).state == "queued"
    assert adapters.records.get_render(running.id).error == trigger.TIMED_OUT
    assert adapters.records.get_render(fresh.id).state == "queued"
    delivered = {adapters.queue.claim().render_id, adapters.queue.claim().render_id}
    assert delivered == {queued.id, dispatching.id} and adapters.queue.claim() is None


def test_the_sweeper_as_an_http_function(adapters, make_render, monkeypatch):
    import flask

    monkeypatch.setattr(trigger, "_adapters", lambda: adapters)
    with flask.Flask(__name__).test_request_context("/", method="POST"):
        result = trigger.sweep_stuck_renders(flask.request)
    assert result == {"republished": [], "timed_out": []}  # nothing is stuck yet
