"""Usage events published to Pub/Sub, which a BigQuery subscription writes into the
usage table: the cloud twin of infra.usage_duckdb.

The topic carries the Avro schema infra/bigquery/usage_events.avsc with binary
encoding, so Pub/Sub refuses a malformed event at publish time instead of the
subscription failing to write it later.
"""

from __future__ import annotations

import io

import fastavro
from google.cloud import pubsub_v1

from infra.bigquery import avro_schema
from infra.usage import UsageEvent, UsageSink

PUBLISH_TIMEOUT_S = 30
SCHEMA = fastavro.parse_schema(avro_schema())


def encode(event: UsageEvent) -> bytes:
    record = event.model_dump(mode="json") | {"event_ts": event.event_ts}
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, record)
    return buffer.getvalue()


def decode(data: bytes) -> dict:
    return fastavro.schemaless_reader(io.BytesIO(data), SCHEMA)


class PubSubUsageSink(UsageSink):
    def __init__(self, publisher: pubsub_v1.PublisherClient, topic: str):
        self._publisher, self._topic = publisher, topic

    def record(self, event: UsageEvent) -> None:
        future = self._publisher.publish(self._topic, encode(event), kind=event.kind)
        future.result(timeout=PUBLISH_TIMEOUT_S)  # an event is not recorded until Pub/Sub has it
