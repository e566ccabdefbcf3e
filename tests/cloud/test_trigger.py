"""The render trigger with the real Cloud Run client against a local fake of its Admin API."""

import base64
import json
import logging
from datetime import UTC, datetime

import flask
import functions_framework
import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from werkzeug import Request, Response

from animate_job import trigger
from animate_job.trigger import AtCapacity, Dispatcher, JobNotStarted, NotARenderRequest, PushEnvelope
from infra.domain import failures
from tests.conftest import ROOT

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


def test_one_persons_renders_beyond_their_cap_wait_while_others_go_by(adapters, cloud_run, make_render):
    dispatcher = Dispatcher(adapters.records, cloud_run.client, JOB, max_parallel=4, max_per_person=2)
    flood = [make_render("flooder") for _ in range(5)]
    newcomer = make_render("newcomer")
    assert [dispatcher.dispatch(render.id) for render in flood[:2]] == ["started", "started"]
    with pytest.raises(AtCapacity, match="2 renders of this person in progress, the cap per person is 2"):
        dispatcher.dispatch(flood[2].id)
    assert adapters.records.get_render(flood[2].id).state == "queued"
    assert dispatcher.dispatch(newcomer.id) == "started"  # a free GPU is not held back by the flood
    adapters.records.mark_running(flood[0].id, 1, "r")
    adapters.records.mark_succeeded(flood[0].id, "r", {}, {})
    assert dispatcher.dispatch(flood[2].id) == "started"  # the redelivery, once one of theirs finished
    assert cloud_run.render_ids() == [flood[0].id, flood[1].id, newcomer.id, flood[2].id]


def test_a_cancelled_renders_request_starts_nothing(dispatcher, cloud_run, make_render, adapters):
    render = make_render()
    adapters.records.cancel(render.id)
    assert dispatcher.dispatch(render.id) == "ignored"
    assert cloud_run.render_ids() == []


def test_the_sweeper_leaves_cancelled_renders_alone(adapters, make_render):
    from datetime import timedelta

    from infra.domain.ids import now

    queued, running = make_render(), make_render()
    adapters.records.mark_running(running.id, 1, "r")
    for render in (queued, running):
        adapters.records.cancel(render.id)
    swept = trigger.sweep(adapters.records, adapters.queue, now() + timedelta(days=1), timedelta(0), timedelta(0))
    assert swept == {"republished": [], "timed_out": []}


def test_quota_from_cloud_run_leaves_the_render_queued_for_the_redelivery(dispatcher, cloud_run, make_render, adapters):
    render = make_render()
    cloud_run.errors.append(429)
    with pytest.raises(JobNotStarted, match="Quota exceeded"):
        dispatcher.dispatch(render.id)
    assert adapters.records.get_render(render.id).state == "queued"
    assert cloud_run.render_ids() == []
    assert dispatcher.dispatch(render.id) == "started"
    assert cloud_run.render_ids() == [render.id]


# "Receive messages using push" (Pub/Sub documentation): the body of a push request,
# verbatim, as the page shows it today and as it showed it before messageId/publishTime.
DOCUMENTED_PUSH_BODY = """{
  "message": {
    "attributes": {
      "key": "value"
    },
    "data": "SGVsbG8gQ2xvdWQgUHViL1N1YiEgSGVyZSBpcyBteSBtZXNzYWdlIQ==",
    "messageId": "2070443601311540",
    "message_id": "2070443601311540",
    "publishTime": "2021-02-26T19:13:55.749Z",
    "publish_time": "2021-02-26T19:13:55.749Z"
  },
  "subscription": "projects/myproject/subscriptions/mysubscription"
}"""
EARLIER_DOCUMENTED_PUSH_BODY = """{
  "message": {
    "attributes": {
      "key": "value"
    },
    "data": "SGVsbG8gQ2xvdWQgUHViL1N1YiEgSGVyZSBpcyBteSBtZXNzYWdlIQ==",
    "message_id": "136969346945"
  },
  "subscription": "projects/myproject/subscriptions/mysubscription"
}"""


def push_body(render_id: str, delivery_attempt: int | None = None) -> bytes:
    """The documented body with a render request as its data, as Pub/Sub pushes ours."""
    body = json.loads(DOCUMENTED_PUSH_BODY)
    body["message"]["data"] = base64.b64encode(json.dumps({"render_id": render_id}).encode()).decode()
    body["message"]["attributes"] = {"render_id": render_id}
    if delivery_attempt is not None:
        body["deliveryAttempt"] = delivery_attempt  # present when the subscription has a dead-letter policy
    return json.dumps(body).encode()


def call(function, body: bytes):
    """An HTTP function as functions-framework calls it: with Flask's request."""
    with flask.Flask(__name__).test_request_context("/", method="POST", data=body, content_type="application/json"):
        response = flask.make_response(function(flask.request))
    return response.status_code, response.get_data(as_text=True)


def test_the_documented_push_body_reads_field_for_field():
    push = PushEnvelope.read(DOCUMENTED_PUSH_BODY.encode())
    assert push.message.message_id == "2070443601311540"
    assert push.message.publish_time == datetime(2021, 2, 26, 19, 13, 55, 749000, tzinfo=UTC)
    assert push.message.attributes == {"key": "value"}
    assert push.subscription == "projects/myproject/subscriptions/mysubscription"
    assert push.delivery_attempt is None  # no dead-letter policy, no deliveryAttempt
    assert push.data() == b"Hello Cloud Pub/Sub! Here is my message!"
    with pytest.raises(NotARenderRequest, match=r"message\.data is not JSON"):
        push.render_id()
    earlier = PushEnvelope.read(EARLIER_DOCUMENTED_PUSH_BODY.encode())
    assert (earlier.message.message_id, earlier.message.publish_time) == ("136969346945", None)
    assert earlier.data() == b"Hello Cloud Pub/Sub! Here is my message!"


def test_a_pushed_request_starts_the_job_and_reads_the_delivery_attempt(
    dispatcher, cloud_run, make_render, monkeypatch, caplog
):
    render = make_render()
    monkeypatch.setattr(trigger, "_dispatcher", lambda: dispatcher)
    body = push_body(render.id, delivery_attempt=5)
    assert PushEnvelope.read(body).delivery_attempt == 5
    with caplog.at_level(logging.INFO, logger="animate_job.trigger"):
        assert call(trigger.on_render_request, body) == (200, "started\n")
    assert cloud_run.render_ids() == [render.id]
    assert f"render request for {render.id}: message 2070443601311540" in caplog.text and "delivery 5" in caplog.text
    assert call(trigger.on_render_request, push_body(render.id, delivery_attempt=6)) == (200, "ignored\n")


def test_at_the_cap_the_push_is_refused_with_429_so_pub_sub_delivers_it_again(
    dispatcher, cloud_run, make_render, monkeypatch
):
    monkeypatch.setattr(trigger, "_dispatcher", lambda: dispatcher)
    first, second, third = make_render(), make_render(), make_render()
    for render in (first, second):
        assert call(trigger.on_render_request, push_body(render.id, delivery_attempt=1))[0] == 200
    status, text = call(trigger.on_render_request, push_body(third.id, delivery_attempt=1))
    assert (status, text) == (429, "2 renders in progress, the cap is 2; Pub/Sub delivers the request again later\n")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def envelope(message: dict, **fields) -> bytes:
    return json.dumps({"message": message, "subscription": "projects/p/subscriptions/s", **fields}).encode()


NEEDS = 'a render request is {"render_id": "..."}'
MALFORMED = {
    "not JSON": (b"render me", "not a Pub/Sub push body: the body: Invalid JSON: expected value at line 1 column 1"),
    "no message": (
        b'{"subscription": "projects/p/subscriptions/s"}',
        "not a Pub/Sub push body: message: Field required",
    ),
    "no subscription": (b'{"message": {"messageId": "1"}}', "not a Pub/Sub push body: subscription: Field required"),
    "no message id": (envelope({"data": ""}), "not a Pub/Sub push body: message.messageId: Field required"),
    "delivery attempt 0": (
        envelope({"messageId": "1"}, deliveryAttempt=0),
        "not a Pub/Sub push body: deliveryAttempt: Input should be greater than or equal to 1",
    ),
    "data not base64": (envelope({"data": "%%%", "messageId": "1"}), "message.data is not base64"),
    "data not JSON": (envelope({"data": b64(b"\xff\xfe"), "messageId": "1"}), f"message.data is not JSON: {NEEDS}"),
    "no render id": (
        envelope({"data": b64(b'{"id": "r1"}'), "messageId": "1"}),
        f"message.data has no render_id: {NEEDS}",
    ),
    "blank render id": (
        envelope({"data": b64(b'{"render_id": " "}'), "messageId": "1"}),
        f"message.data has no render_id: {NEEDS}",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_push_gets_a_400_with_one_line_and_starts_nothing(case, cloud_run, monkeypatch):
    """A 400 is a failed delivery: Pub/Sub retries it until the subscription's dead-letter
    policy (max_delivery_attempts) moves it to the dead-letter topic, where it is dropped."""
    monkeypatch.setattr(trigger, "_dispatcher", lambda: pytest.fail("nothing is dispatched"))
    body, reason = MALFORMED[case]
    assert call(trigger.on_render_request, body) == (400, reason + "\n")
    assert call(trigger.on_dead_letter, body) == (204, "")  # acknowledged there: no retry can mend it
    assert cloud_run.runs == []


def test_functions_framework_serves_the_push_as_an_http_function():
    """The image's serving stack (functions-framework, --signature-type=http) passes our answer through."""
    app = functions_framework.create_app("on_render_request", str(ROOT / "animate_job" / "trigger.py"), "http")
    response = app.test_client().post("/", data=DOCUMENTED_PUSH_BODY, content_type="application/json")
    assert (response.status_code, response.get_data(as_text=True)) == (400, f"message.data is not JSON: {NEEDS}\n")


def test_the_run_job_request_is_the_client_s_own_overrides(dispatcher, cloud_run, make_render):
    """RunJobRequest.Overrides as the google-cloud-run client serialises it to the Admin API."""
    render = make_render()
    dispatcher.dispatch(render.id)
    assert cloud_run.runs == [
        {"overrides": {"containerOverrides": [{"env": [{"name": "RENDER_ID", "value": render.id}]}], "taskCount": 1}}
    ]


def test_a_dead_lettered_request_fails_its_render_with_a_reason(adapters, make_render, monkeypatch, caplog):
    monkeypatch.setattr(trigger, "_adapters", lambda: adapters)
    render = make_render()
    # Pub/Sub adds these attributes when it moves a message to the dead-letter topic.
    body = json.loads(push_body(render.id))
    body["message"]["attributes"] |= {
        "CloudPubSubDeadLetterSourceDeliveryCount": "20",
        "CloudPubSubDeadLetterSourceSubscription": "render-requests-trigger",
    }
    with caplog.at_level(logging.ERROR, logger="animate_job.trigger"):
        assert call(trigger.on_dead_letter, json.dumps(body).encode()) == (204, "")
    failed = adapters.records.get_render(render.id)
    assert failed.state == "failed" and failed.error == failures.NOT_STARTED
    assert "dead-lettered after 20 deliveries" in caplog.text
    assert call(trigger.on_dead_letter, json.dumps(body).encode()) == (204, "")  # a second copy changes nothing
    assert adapters.records.get_render(render.id) == failed


def test_a_dead_lettered_request_gives_back_the_quota_of_a_render_never_started(adapters, make_render, monkeypatch):
    monkeypatch.setattr(trigger, "_adapters", lambda: adapters)
    render = make_render()
    key = "renders:2031-01-01:user:reader-1"
    assert adapters.counters.add(key, 1, datetime(2031, 1, 2, tzinfo=UTC)) == 1  # what starting it took
    adapters.records.delete_render(render.id)
    render = render.model_copy(update={"quota": [key]})  # as the site stores it, with the counters it took
    adapters.records.create_render(render)
    assert call(trigger.on_dead_letter, push_body(render.id)) == (204, "")
    assert adapters.records.get_render(render.id).state == "failed"
    assert adapters.counters.value(key) == 0  # back, as a cancel while it waited gives it


def test_a_dead_lettered_copy_of_a_request_leaves_a_render_its_other_copy_started(adapters, make_render, monkeypatch):
    """The sweeper republishes a waiting render's request, so one render may have two; the
    first dispatched it, and the second ran out of deliveries while the job ran."""
    monkeypatch.setattr(trigger, "_adapters", lambda: adapters)
    render = make_render()
    assert adapters.records.mark_dispatching(render.id) and adapters.records.mark_running(render.id, 1, "job")
    assert call(trigger.on_dead_letter, push_body(render.id)) == (204, "")
    running = adapters.records.get_render(render.id)
    assert (running.state, running.error) == ("running", None)


def test_the_sweeper_republishes_stuck_requests_and_fails_overdue_renders(adapters, make_render):
    from datetime import timedelta

    from infra.domain.ids import now

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
    assert adapters.records.get_render(running.id).error == failures.TIMED_OUT
    assert adapters.records.get_render(fresh.id).state == "queued"
    delivered = {adapters.queue.claim().render_id, adapters.queue.claim().render_id}
    assert delivered == {queued.id, dispatching.id} and adapters.queue.claim() is None


def test_the_sweeper_as_an_http_function(adapters, make_render, monkeypatch):
    """The scheduled HTTP call sweeps with the settings' thresholds, from the clock's now."""
    from datetime import timedelta

    from infra.domain.ids import now

    monkeypatch.setattr(trigger, "_adapters", lambda: adapters)
    stuck, running = make_render(), make_render()
    adapters.records.mark_running(running.id, 1, "r")
    settings = adapters.settings
    start = now()

    def sweep_at(offset: timedelta) -> object:
        monkeypatch.setattr(trigger, "now", lambda: start + offset)
        with flask.Flask(__name__).test_request_context("/", method="POST"):
            return trigger.sweep_stuck_renders(flask.request)

    # Not yet stuck: one minute short of the stuck threshold.
    assert sweep_at(timedelta(seconds=settings.stuck_after_s - 60)) == {"republished": [], "timed_out": []}
    # Past both thresholds (a minute after the longer): the queued one is sent again, the running one failed.
    later = timedelta(seconds=max(settings.stuck_after_s, settings.task_timeout_s) + 60)
    assert sweep_at(later) == {"republished": [stuck.id], "timed_out": [running.id]}
    assert adapters.queue.claim().render_id == stuck.id
    assert adapters.records.get_render(running.id).error == failures.TIMED_OUT
