"""Usage events published to Pub/Sub, which a BigQuery subscription writes into the
usage table: the cloud twin of infra.usage.files.

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
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # ships no type information

from infra.bigquery import avro_schema
from infra.domain.usage import UsageEvent
from infra.usage import UsageSink

log = logging.getLogger(__name__)
SCHEMA = fastavro.parse_schema(avro_schema())


def encode(event: UsageEvent) -> bytes:
    record = event.model_dump(mode="json") | {"event_ts": event.event_ts}
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, record)
    return buffer.getvalue()


def decode(data: bytes) -> dict:
    record = fastavro.schemaless_reader(io.BytesIO(data), SCHEMA)
    if not isinstance(record, dict):  # the schema is a record: never, unless the schema changes
        raise TypeError(f"a usage message decoded to {type(record).__name__}, not a record")
    return record


class PubSubUsageSink(UsageSink):
    def __init__(self, publisher: pubsub_v1.PublisherClient, topic: str, retry_every_s: float = 2.0):
        super().__init__(retry_every_s)
        self._publisher, self._topic = publisher, topic
        self._pending: dict[futures.Future, UsageEvent] = {}
        self._settled = threading.Condition()

    def _send(self, event: UsageEvent) -> None:
        # The attributes let a subscription filter (the Telegram front's: render events) and
        # act on a render without decoding the message.
        attributes = {"kind": event.kind} | ({"render_id": event.render_id} if event.render_id else {})
        future = self._publisher.publish(self._topic, encode(event), **attributes)
        with self._settled:
            self._pending[future] = event
        future.add_done_callback(lambda done: self._published(done, event))

    def _published(self, future: futures.Future, event: UsageEvent) -> None:
        error = future.exception()
        with self._settled:
            if future not in self._pending:
                return  # a flush gave up on it and logged it: not kept, not logged twice
            if error is not None:
                log.warning("usage event %s not published yet (%s); will retry", event.event_id, error)
                self._keep(event)  # back in the backlog before it stops counting as pending
            del self._pending[future]
            self._settled.notify_all()

    def _wait_sent(self, timeout_s: float) -> None:
        with self._settled:
            self._settled.wait_for(lambda: not self._pending, timeout=timeout_s)

    def _abandon_unconfirmed(self) -> list[UsageEvent]:
        with self._settled:
            abandoned = list(self._pending.values())
            self._pending.clear()
            self._settled.notify_all()
            return abandoned
