"""The render trigger: each render request on Pub/Sub starts one Cloud Run job execution.

Three functions-framework entry points:
- on_render_request (CloudEvent, render-requests topic): moves the render from queued
  to dispatching (only one delivery can), then runs the render job with RENDER_ID as
  an environment override. At the cap on parallel GPU renders, or when the Cloud Run
  Admin API answers 429 or quota, it raises: Pub/Sub redelivers with backoff and the
  render stays queued. The job itself does the rest (animate_job.run).
- on_dead_letter (CloudEvent, the dead-letter topic): a request that used up its
  deliveries fails its render, with a reason a person understands.
- sweep_stuck_renders (HTTP, Cloud Scheduler): re-publishes renders stuck queued or
  dispatching, and fails renders running past the job's task timeout.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import functions_framework
from google.api_core.exceptions import ResourceExhausted, ServiceUnavailable, TooManyRequests
from google.cloud import run_v2

from infra.bootstrap import Adapters, bootstrap
from infra.queue import RenderQueue
from infra.records import Records, now
from infra.settings import load_settings

log = logging.getLogger(__name__)


class AtCapacity(Exception):
    """As many GPU renders run as allowed: the request waits for a redelivery."""


class JobNotStarted(Exception):
    """Cloud Run would not start the job now (rate or quota): the request waits for a redelivery."""


GAVE_UP = (
    "The render could not be started: the render service stayed busy or out of GPU capacity "
    "through every retry. Please try again later."
)
TIMED_OUT = "The render ran past its time limit and was stopped. Try the draft preset, or try again later."


@dataclass
class Dispatcher:
    records: Records
    jobs: run_v2.JobsClient
    job_path: str
    max_parallel: int

    def dispatch(self, render_id: str) -> str:
        """'started' when a job execution was asked for, 'ignored' for a repeated delivery."""
        render = self.records.get_render(render_id)
        if render is None or render.state != "queued":
            log.info("render %s is %s: nothing to dispatch", render_id, render and render.state)
            return "ignored"
        busy = self.records.count_renders("dispatching") + self.records.count_renders("running")
        if busy >= self.max_parallel:
            raise AtCapacity(f"{busy} renders in progress, the cap is {self.max_parallel}")
        if not self.records.mark_dispatching(render_id):
            return "ignored"  # another delivery got there first
        overrides = run_v2.RunJobRequest.Overrides(
            container_overrides=[
                run_v2.RunJobRequest.Overrides.ContainerOverride(env=[run_v2.EnvVar(name="RENDER_ID", value=render_id)])
            ]
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
    timed_out = [
        r.id for r in records.stale_renders("running", now - task_timeout) if records.mark_failed(r.id, TIMED_OUT)
    ]
    return {"republished": republished, "timed_out": timed_out}


def render_id_of(cloud_event) -> str:
    message = cloud_event.data["message"]
    return json.loads(base64.b64decode(message["data"]))["render_id"]


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
    )


@cache
def _jobs_client() -> run_v2.JobsClient:
    return run_v2.JobsClient()


@functions_framework.cloud_event
def on_render_request(cloud_event) -> None:
    _dispatcher().dispatch(render_id_of(cloud_event))


@functions_framework.cloud_event
def on_dead_letter(cloud_event) -> None:
    render_id = render_id_of(cloud_event)
    if _adapters().records.mark_failed(render_id, GAVE_UP):
        log.error("render %s failed: its request reached the dead-letter topic", render_id)


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
