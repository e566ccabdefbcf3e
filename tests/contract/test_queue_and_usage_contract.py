"""The render queue and the usage sink, on their local adapters and on the Pub/Sub emulator."""

from __future__ import annotations

import json
import uuid

import pytest

from infra.domain.usage import UsageEvent
from tests.emulators import create_usage_topic
from tests.usage import stored_events


class PubSubTopic:
    """A topic with one subscription on the emulator, pulled synchronously."""

    def __init__(self, host: str, usage: bool = False):
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # no type information

        project = f"test-{uuid.uuid4().hex[:10]}"
        self.publisher, self.subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        if usage:
            self.topic = create_usage_topic(self.publisher, project)
        else:
            self.topic = self.publisher.create_topic(request={"name": f"projects/{project}/topics/messages"}).name
        self.subscription = self.subscriber.create_subscription(
            request={"name": f"projects/{project}/subscriptions/reader", "topic": self.topic}
        ).name

    def pull(self, expected: int) -> list:
        messages: list = []
        while len(messages) < expected:
            response = self.subscriber.pull(request={"subscription": self.subscription, "max_messages": 10}, timeout=10)
            messages += response.received_messages
        self.subscriber.acknowledge(
            request={"subscription": self.subscription, "ack_ids": [m.ack_id for m in messages]}
        )
        return [m.message for m in messages]


@pytest.fixture
def pubsub_topic(pubsub_emulator, monkeypatch):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator)
    return PubSubTopic(pubsub_emulator)


@pytest.fixture
def usage_topic(pubsub_emulator, monkeypatch):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator)
    return PubSubTopic(pubsub_emulator, usage=True)


@pytest.fixture(params=["sqlite", pytest.param("pubsub", marks=pytest.mark.emulator)])
def queue_and_delivered(request, adapters):
    """A render queue, and a function that returns the render ids it delivered."""
    if request.param == "sqlite":

        def delivered(count):
            return [adapters.queue.claim().render_id for _ in range(count)]

        return adapters.queue, delivered
    from infra.queue.pubsub import PubSubRenderQueue

    topic = request.getfixturevalue("pubsub_topic")
    queue = PubSubRenderQueue(topic.publisher, topic.topic, adapters.records)
    return queue, lambda count: [json.loads(m.data)["render_id"] for m in topic.pull(count)]


def test_a_submitted_render_is_delivered(queue_and_delivered, make_render, adapters):
    queue, delivered = queue_and_delivered
    first, second = make_render(), make_render()
    queue.submit(first.id)
    queue.submit(second.id)
    assert sorted(delivered(2)) == sorted([first.id, second.id])
    assert queue.depth() == 2  # both queued in the records, or both waiting in the table
    adapters.records.mark_dispatching(first.id)
    assert queue.depth() == 2  # a render being dispatched is still in progress


@pytest.fixture(params=["files", pytest.param("pubsub", marks=pytest.mark.emulator)])
def sink_and_stored(request, adapters):
    if request.param == "files":
        return adapters.usage, lambda count: stored_events(adapters)
    from infra.usage.pubsub import PubSubUsageSink, decode

    topic = request.getfixturevalue("usage_topic")
    return PubSubUsageSink(topic.publisher, topic.topic), lambda count: [decode(m.data) for m in topic.pull(count)]


def test_usage_events_arrive_with_every_field(sink_and_stored):
    sink, stored = sink_and_stored
    event = UsageEvent(
        kind="render",
        user_id="u",
        render_id="r",
        model="tiny",
        frames=120,
        gpu_seconds=12.5,
        wall_seconds=14.0,
        status="succeeded",
        cost_usd=0.0021,
        attributes={"preset": "standard"},
    )
    sink.record(event)
    [row] = stored(1)
    assert row["event_id"] == event.event_id and row["kind"] == "render"
    assert (row["frames"], row["gpu_seconds"], row["cost_usd"]) == (120, 12.5, 0.0021)
    assert json.loads(row["attributes"]) == {"preset": "standard"}
    assert row["event_ts"] == event.event_ts and row["pricing_version"] == event.pricing_version
    assert list(row) == list(UsageEvent.model_fields)  # the same fields, in the table's order, on both sides


def test_a_reachable_queue_is_ready(queue_and_delivered):
    queue, _ = queue_and_delivered
    queue.check()  # raises when it is not


@pytest.mark.emulator
def test_a_queue_whose_topic_is_missing_is_not_ready(pubsub_topic, adapters):
    from google.api_core.exceptions import NotFound

    from infra.queue.pubsub import PubSubRenderQueue

    missing = pubsub_topic.topic.rsplit("/", 1)[0] + "/never-created"
    with pytest.raises(NotFound):
        PubSubRenderQueue(pubsub_topic.publisher, missing, adapters.records).check()


@pytest.mark.emulator
def test_usage_that_cannot_be_published_never_fails_the_caller(pubsub_topic, caplog):
    """The usage topic gone: recording returns at once, and what could not be sent ends in
    the log whole when the process gives up on it."""
    import logging

    from infra.usage.pubsub import PubSubUsageSink

    missing = pubsub_topic.topic.rsplit("/", 1)[0] + "/never-created"
    sink = PubSubUsageSink(pubsub_topic.publisher, missing, retry_every_s=60)
    event = UsageEvent(kind="download", user_id="u")
    sink.record(event)  # no exception, no wait for Pub/Sub
    with caplog.at_level(logging.ERROR):
        assert sink.flush(timeout_s=5) is False
    assert f"usage event not recorded: {event.event_id}" in caplog.text


@pytest.mark.emulator
def test_a_usage_message_names_its_kind_and_render_for_a_filtered_subscription(usage_topic):
    """The Telegram front's push subscription takes `attributes.kind = "render"` and reads the render id."""
    from infra.usage.pubsub import PubSubUsageSink

    sink = PubSubUsageSink(usage_topic.publisher, usage_topic.topic)
    sink.record(UsageEvent(kind="render", render_id="r-1", status="succeeded"))
    sink.record(UsageEvent(kind="channel_reaction", channel_id="-1001", post_id=3, likes=2, dislikes=0, subscribers=9))
    # Pub/Sub adds googclient_schema* to a message of a topic with a schema.
    ours = [{k: v for k, v in m.attributes.items() if not k.startswith("googclient_")} for m in usage_topic.pull(2)]
    attributes = sorted(ours, key=lambda a: a["kind"])
    assert attributes == [{"kind": "channel_reaction"}, {"kind": "render", "render_id": "r-1"}]


def test_a_publish_that_fails_after_the_flush_gave_up_is_logged_once_and_not_kept(caplog):
    """The flush gives up on an event Pub/Sub has not answered for yet (logged then, whole);
    when the failure comes back later it is neither kept nor logged again. (Before, such an
    event came back into the backlog, warned into whatever ran next and was logged again at
    exit.) The publisher's future is held here so the order is certain."""
    import logging
    from concurrent import futures

    from infra.usage.pubsub import PubSubUsageSink

    answer: futures.Future = futures.Future()

    class Publisher:
        def publish(self, topic, data, **attributes):
            return answer

    sink = PubSubUsageSink(Publisher(), "projects/p/topics/usage-events", retry_every_s=60)
    event = UsageEvent(kind="download", user_id="u")
    sink.record(event)
    with caplog.at_level(logging.WARNING):
        assert sink.flush(timeout_s=0.1) is False
        answer.set_exception(RuntimeError("404 Topic not found"))
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", f"usage event not recorded: {event.event_id}")
    ]
    assert sink.flush(timeout_s=0.1) is True  # nothing came back to send
