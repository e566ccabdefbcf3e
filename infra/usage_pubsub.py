"""Usage events published to Pub/Sub, which a BigQuery subscription writes into the
usage table: the cloud twin of infra.usage_duckdb. Each message is one event as JSON
with the table's field names (attributes as a JSON string)."""

from __future__ import annotations

from google.cloud import pubsub_v1

from infra.usage import UsageEvent, UsageSink

PUBLISH_TIMEOUT_S = 30


class PubSubUsageSink(UsageSink):
    def __init__(self, publisher: pubsub_v1.PublisherClient, topic: str):
        self._publisher, self._topic = publisher, topic

    def record(self, event: UsageEvent) -> None:
        future = self._publisher.publish(self._topic, event.model_dump_json().encode(), kind=event.kind)
        future.result(timeout=PUBLISH_TIMEOUT_S)  # an event is not recorded until Pub/Sub has it
