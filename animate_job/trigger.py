"""The render trigger: each render request on Pub/Sub starts one Cloud Run job execution.

A functions-framework CloudEvent function on the render-requests topic. It moves the
render from queued to dispatching (only one delivery can), then runs the render job
with RENDER_ID as an environment override. At the cap on parallel GPU renders, or
when the Cloud Run Admin API answers 429 or quota, it raises: Pub/Sub redelivers with
backoff and the render stays queued. The job itself does the rest (animate_job.run).
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from functools import cache

import functions_framework
from google.api_core.exceptions import ResourceExhausted, ServiceUnavailable, TooManyRequests
from google.cloud import run_v2

from infra.records import Records
from infra.settings import Settings, load_settings

log = logging.getLogger(__name__)


class AtCapacity(Exception):
    """As many GPU renders run as allowed: the request waits for a redelivery."""


class JobNotStarted(Exception):
    """Cloud Run would not start the job now (rate or quota): the request waits for a redelivery."""


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


def render_id_of(cloud_event) -> str:
    message = cloud_event.data["message"]
    return json.loads(base64.b64decode(message["data"]))["render_id"]


@cache
def _dispatcher() -> Dispatcher:
    """Built once per instance, at the first request (nothing connects at import)."""
    from google.cloud import firestore

    from infra.records_firestore import FirestoreRecords

    settings: Settings = load_settings()
    return Dispatcher(
        records=FirestoreRecords(firestore.Client(project=settings.gcp_project)),
        jobs=run_v2.JobsClient(),
        job_path=settings.render_job_path,
        max_parallel=settings.max_parallel_renders,
    )


@functions_framework.cloud_event
def on_render_request(cloud_event) -> None:
    _dispatcher().dispatch(render_id_of(cloud_event))
