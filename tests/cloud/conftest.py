"""Cloud mode on the emulators: what terraform would make, and the job's environment."""

import os
import uuid

import pytest

from infra.settings import Settings
from tests.emulators import create_usage_topic


@pytest.fixture
def cloud(firestore_emulator, pubsub_emulator, gcs_emulator, monkeypatch, tmp_path):
    """What terraform makes (a bucket, two topics with subscriptions), on the emulators."""
    from google.cloud import pubsub_v1, storage  # type: ignore[attr-defined]  # no type information

    hosts = {
        "FIRESTORE_EMULATOR_HOST": firestore_emulator,
        "PUBSUB_EMULATOR_HOST": pubsub_emulator,
        "STORAGE_EMULATOR_HOST": gcs_emulator,
    }
    for name, value in hosts.items():
        monkeypatch.setenv(name, value)
    project, bucket = f"books-{uuid.uuid4().hex[:8]}", f"renders-{uuid.uuid4().hex[:8]}"
    storage.Client(project=project).create_bucket(bucket)
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    subscriptions = {}
    topics = {
        "render-requests": publisher.create_topic(
            request={"name": publisher.topic_path(project, "render-requests")}
        ).name,
        "usage-events": create_usage_topic(publisher, project),
    }
    for topic, name in topics.items():
        subscriptions[topic] = subscriber.create_subscription(
            request={"name": subscriber.subscription_path(project, f"{topic}-test"), "topic": name}
        ).name
    settings = Settings(mode="cloud", gcp_project=project, renders_bucket=bucket, data_dir=tmp_path / "data")
    return {"settings": settings, "hosts": hosts, "subscriber": subscriber, "subscriptions": subscriptions}


def pull(cloud, topic: str, at_least: int) -> list:
    """Pulls and acknowledges at least that many messages from the topic's test subscription."""
    messages: list = []
    while len(messages) < at_least:
        response = cloud["subscriber"].pull(
            request={"subscription": cloud["subscriptions"][topic], "max_messages": 50}, timeout=10
        )
        messages += response.received_messages
    cloud["subscriber"].acknowledge(
        request={"subscription": cloud["subscriptions"][topic], "ack_ids": [m.ack_id for m in messages]}
    )
    return [m.message for m in messages]


def job_environment(cloud, render_id: str, task_attempt: int) -> dict:
    """The render job's environment as Cloud Run sets it (task attempts count from 0)."""
    settings = cloud["settings"]
    environment = {
        **os.environ,
        **cloud["hosts"],
        "HF_HUB_OFFLINE": "1",
        "ANIMBOOKS_MODE": "cloud",
        "ANIMBOOKS_GCP_PROJECT": settings.gcp_project,
        "ANIMBOOKS_RENDERS_BUCKET": settings.renders_bucket,
        "ANIMBOOKS_DEVICE": "cpu",
        "RENDER_ID": render_id,
        "CLOUD_RUN_TASK_ATTEMPT": str(task_attempt),
    }
    environment.pop("ANIMBOOKS_RENDER_ATTEMPT", None)
    return environment
