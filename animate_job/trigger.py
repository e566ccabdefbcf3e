"""The render trigger: each render request on Pub/Sub starts one Cloud Run job execution.

Three functions-framework entry points, each an HTTP function:
- on_render_request (the render-requests push subscription): reads the push body
  exactly as Pub/Sub documents it (PushEnvelope), moves the render from queued to
  dispatching (only one delivery can), then runs the render job with RENDER_ID as an
  environment override. At the cap on parallel GPU renders, at the cap on one person's
  renders in flight (so one person's many renders never hold everyone else's back), or
  when the Cloud Run Admin API answers 429 or quota, it answers 429: Pub/Sub redelivers
  with backoff and the render stays queued. A cancelled render's request is acknowledged
  and starts nothing. The job itself does the rest (animate_job.run).
- on_dead_letter (the dead-letter topic's push subscription): a request that used up
  its deliveries fails its render, with a reason a person understands.
- sweep_stuck_renders (Cloud Scheduler): re-publishes renders stuck queued or
  dispatching, and fails renders running past the job's task timeout.

A push body that is not a render request gets a 400 with one line saying why. Pub/Sub
treats it as a failed delivery, but not forever: the subscription's dead-letter policy
moves it to the dead-letter topic after its last attempt (and the dead-letter alert
fires), where on_dead_letter logs and acknowledges it, since retrying cannot mend it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import functions_framework
from google.api_core.exceptions import ResourceExhausted, ServiceUnavailable, TooManyRequests
from google.cloud import run_v2
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from infra.bootstrap import Adapters, bootstrap
from infra.domain import failures
from infra.domain.ids import now
from infra.queue import RenderQueue
from infra.records import Records
from infra.settings import ConfigurationError, load_settings

log = logging.getLogger(__name__)

# functions-framework imports this module before it serves: a setting the trigger cannot
# use stops it here with one line, instead of failing every request with a traceback.
try:
    load_settings()
except ConfigurationError as error:
    print(f"error: {error}", file=sys.stderr, flush=True)
    raise SystemExit(2) from None


class AtCapacity(Exception):
    """As many GPU renders run as allowed, in all or of this person: the request waits for a redelivery."""


class JobNotStarted(Exception):
    """Cloud Run would not start the job now (rate or quota): the request waits for a redelivery."""


class NotARenderRequest(ValueError):
    """A push body that no retry can turn into a render request; the message says why."""


class PushMessage(BaseModel):
    """`message` of a push body: PubsubMessage in JSON, with the names Pub/Sub sends
    both ways (messageId and message_id, publishTime and publish_time)."""

    model_config = ConfigDict(extra="ignore")

    data: str = ""  # base64; absent when the message has attributes only
    attributes: dict[str, str] = Field(default_factory=dict)
    message_id: str = Field(validation_alias=AliasChoices("messageId", "message_id"), min_length=1)
    publish_time: datetime | None = Field(default=None, validation_alias=AliasChoices("publishTime", "publish_time"))
    ordering_key: str | None = Field(default=None, validation_alias=AliasChoices("orderingKey", "ordering_key"))


class PushEnvelope(BaseModel):
    """The JSON body of a Pub/Sub push request (a wrapped message)."""

    model_config = ConfigDict(extra="ignore")

    message: PushMessage
    subscription: str = Field(min_length=1)
    #: Present only when the subscription has a dead-letter policy: 1 on the first delivery.
    delivery_attempt: int | None = Field(default=None, validation_alias="deliveryAttempt", ge=1)

    @classmethod
    def read(cls, body: bytes) -> PushEnvelope:
        try:
            return cls.model_validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the body"
            raise NotARenderRequest(f"not a Pub/Sub push body: {where}: {first['msg']}") from None

    def data(self) -> bytes:
        try:
            return base64.b64decode(self.message.data, validate=True)
        except binascii.Error:
            raise NotARenderRequest("message.data is not base64") from None

    def render_id(self) -> str:
        """The render a request names: data is the JSON object {"render_id": "..."}
        (infra.queue.pubsub publishes it so)."""
        try:
            request = json.loads(self.data())
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise NotARenderRequest('message.data is not JSON: a render request is {"render_id": "..."}') from None
        render_id = request.get("render_id") if isinstance(request, dict) else None
        if not isinstance(render_id, str) or not render_id.strip():
            raise NotARenderRequest('message.data has no render_id: a render request is {"render_id": "..."}')
        return render_id


@dataclass
class Dispatcher:
    records: Records
    jobs: run_v2.JobsClient
    job_path: str
    max_parallel: int
    #: One person's renders dispatching or running at once; theirs beyond wait, others' go by.
    max_per_person: int = 2

    def dispatch(self, render_id: str) -> str:
        """'started' when a job execution was asked for, 'ignored' for a repeated delivery."""
        render = self.records.get_render(render_id)
        if render is None or render.state != "queued":
            log.info("render %s is %s: nothing to dispatch", render_id, render and render.state)
            return "ignored"
        busy = self.records.count_renders("dispatching") + self.records.count_renders("running")
        if busy >= self.max_parallel:
            raise AtCapacity(f"{busy} renders in progress, the cap is {self.max_parallel}")
        theirs = self.records.count_in_flight(render.user_id)
        if theirs >= self.max_per_person:
            raise AtCapacity(
                f"{theirs} renders of this person in progress, the cap per person is {self.max_per_person}"
            )
        if not self.records.mark_dispatching(render_id):
            return "ignored"  # another delivery got there first
        overrides = run_v2.RunJobRequest.Overrides(
            container_overrides=[
                run_v2.RunJobRequest.Overrides.ContainerOverride(env=[run_v2.EnvVar(name="RENDER_ID", value=render_id)])
            ],
            task_count=1,  # one render, one task: the job reads CLOUD_RUN_TASK_COUNT and refuses more
        )
        try:
            self.jobs.run_job(request=run_v2.RunJobRequest(name=self.job_path, overrides=overrides))
        except (TooManyRequests, ResourceExhausted, ServiceUnavailable) as error:
            self.records.requeue(render_id, note=None)
            raise JobNotStarted(f"Cloud Run did not start the render job: {error}") from error
        return "started"


def sweep(
    records: Records, queue: RenderQueue, now: datetime, stuck_after: timedelta, task_timeout: timedelta
) -> dict[str, list[str]]:
    """Puts stuck requests back on the queue and fails renders that ran out of time."""
    republished = []
    for state in ("queued", "dispatching"):
        for render in records.stale_renders(state, now - stuck_after):
            if state == "dispatching":
                records.requeue(render.id, note=None)  # the job never started: dispatch it again
            queue.submit(render.id)
            republished.append(render.id)
    overdue = records.stale_renders("running", now - task_timeout)
    timed_out = [r.id for r in overdue if records.mark_failed(r.id, failures.TIMED_OUT)]
    return {"republished": republished, "timed_out": timed_out}


@cache
def _adapters() -> Adapters:
    """Built once per instance, at the first request (nothing connects at import)."""
    return bootstrap(load_settings())


def _dispatcher() -> Dispatcher:
    adapters = _adapters()
    return Dispatcher(
        records=adapters.records,
        jobs=_jobs_client(),
        job_path=adapters.settings.render_job_path,
        max_parallel=adapters.settings.max_parallel_renders,
        max_per_person=adapters.settings.max_renders_in_flight_per_person,
    )


@cache
def _jobs_client() -> run_v2.JobsClient:
    return run_v2.JobsClient()


@functions_framework.http
def on_render_request(request):
    try:
        push = PushEnvelope.read(request.get_data())
        render_id = push.render_id()
    except NotARenderRequest as error:
        log.error("refused a render request: %s", error)
        return f"{error}\n", 400
    log.info(
        "render request for %s: message %s from %s, delivery %s",
        render_id,
        push.message.message_id,
        push.subscription,
        push.delivery_attempt,
    )
    try:
        outcome = _dispatcher().dispatch(render_id)
    except (AtCapacity, JobNotStarted) as error:
        log.warning("render %s waits for a redelivery: %s", render_id, error)
        return f"{error}; Pub/Sub delivers the request again later\n", 429
    return f"{outcome}\n", 200


@functions_framework.http
def on_dead_letter(request):
    try:
        push = PushEnvelope.read(request.get_data())
        render_id = push.render_id()
    except NotARenderRequest as error:
        # Acknowledged: it reached here after every delivery failed, and no retry can mend it.
        log.error("dropped a dead-lettered message that is not a render request: %s", error)
        return "", 204
    attempts = push.message.attributes.get("CloudPubSubDeadLetterSourceDeliveryCount", "?")
    adapters = _adapters()
    # Only a render still waiting fails: the sweeper republishes a waiting render's request, so
    # one render may have several, and another copy may have started its job meanwhile.
    if adapters.records.fail_unstarted(render_id, failures.NOT_STARTED):
        log.error("render %s failed: its request was dead-lettered after %s deliveries", render_id, attempts)
        render = adapters.records.get_render(render_id)
        if render is not None:  # it never started: its quota goes back, as a cancel while queued gives it
            try:
                adapters.counters.give_back(render.quota)
            except Exception:
                log.exception("could not give back the quota of render %s, which never started", render_id)
    return "", 204


@functions_framework.http
def sweep_stuck_renders(request):
    adapters = _adapters()
    settings = adapters.settings
    result = sweep(
        adapters.records,
        adapters.queue,
        now(),
        timedelta(seconds=settings.stuck_after_s),
        timedelta(seconds=settings.task_timeout_s),
    )
    log.info("swept renders: %s", result)
    return result
