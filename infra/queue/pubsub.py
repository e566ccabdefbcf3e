"""Render requests as Pub/Sub messages: the cloud twin of infra.queue.sqlite.

The website publishes `{"render_id": ...}` to the render-requests topic; the trigger
function (animate_job.trigger) starts a Cloud Run job execution for each. Pub/Sub
delivers at least once; the records' transitions make a second delivery harmless.
"""

from __future__ import annotations

import json

from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # ships no type information

from infra.queue import RenderQueue
from infra.records import Records

PUBLISH_TIMEOUT_S = 30


class PubSubRenderQueue(RenderQueue):
    def __init__(self, publisher: pubsub_v1.PublisherClient, topic: str, records: Records):
        self._publisher, self._topic, self._records = publisher, topic, records

    def submit(self, render_id: str) -> None:
        data = json.dumps({"render_id": render_id}).encode()
        self._publisher.publish(self._topic, data, render_id=render_id).result(timeout=PUBLISH_TIMEOUT_S)

    def withdraw(self, render_id: str) -> None:
        """A published message cannot be taken back: the trigger acknowledges the request
        of a cancelled render and starts nothing."""

    def check(self) -> None:
        self._publisher.get_topic(request={"topic": self._topic}, timeout=10)  # the topic is there and ours to see

    def depth(self) -> int:
        # Pub/Sub cannot say cheaply what waits; the records can.
        return sum(self._records.count_renders(state) for state in ("queued", "dispatching", "running"))
