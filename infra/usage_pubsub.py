"""Usage events published to Pub/Sub, which a BigQuery subscription writes into the
usage table: the cloud twin of infra.usage_files.

The topic carries the Avro schema infra/bigquery/usage_events.avsc with binary
encoding, so Pub/Sub refuses a malformed event at publish time instead of the
subscription failing to write it later. Publishing happens in the client's own
background threads: a request never waits for it, and a publish that fails comes back
to the sink's backlog to be tried again.
"""

from __future__ import annotations

import io
import logging
import threading
from concurrent import futures

import fastavro
from google.cloud import pubsub_v1

from infra.bigquery import avro_schema
from infra.usage import UsageEvent, UsageSink

log = logging.getLogger(__name__)
SCHEMA = fastavro.parse_schema(avro_schema())


def encode(event: UsageEvent) -> bytes:
    record = event.model_dump(mode="json") | {"event_ts": event.event_ts}
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, record)
    return buffer.getvalue()


def decode(data: bytes) -> dict:
    return fastavro.schemaless_reader(io.BytesIO(data), SCHEMA)


class PubSubUsageSink(UsageSink):
    def __init__(self, publisher: pubsub_v1.PublisherClient, topic: str, retry_every_s: float = 2.0):
        super().__init__(retry_every_s)
        self._publisher, self._topic = publisher, topic
        self._pending: set[futures.Future] = set()
        self._pending_lock = threading.Lock()

    def _send(self, event: UsageEvent) -> None:
        future = self._publisher.publish(self._topic, encode(event), kind=event.kind)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(lambda done: self._published(done, event))

    def _published(self, future: futures.Future, event: UsageEvent) -> None:
        with self._pending_lock:
            self._pending.discard(future)
        error = future.exception()
        if error is not None:
            log.warning("usage event %s not published yet (%s); will retry", event.event_id, error)
            self._keep(event)

    def _wait_sent(self, timeout_s: float) -> None:
        with self._pending_lock:
            pending = set(self._pending)
        if pending:
            futures.wait(pending, timeout=timeout_s)
