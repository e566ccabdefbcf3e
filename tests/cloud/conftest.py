"""Cloud mode on the emulators: what terraform would make, and the job's environment."""

import base64
import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from animate_job.trigger import PushEnvelope
from infra.bootstrap import Adapters, bootstrap
from infra.settings import Settings
from infra.usage.pubsub import decode
from tests import emulators
from tests.conftest import ADMIN_EMAIL, ROOT
from tests.emulators import create_usage_topic
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider


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


def usage_until(cloud, kind: str, timeout_s: float = 60.0) -> list[dict]:
    """The usage topic's events, pulled until one of `kind` has come: a usage sink publishes
    in the background, so a pull of a set number can come before the event it waits for."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while not any(event["kind"] == kind for event in events):
        assert time.monotonic() < deadline, f"no {kind} event on the usage topic, only {events}"
        events += [decode(message.data) for message in pull(cloud, "usage-events", 1)]
    return events


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


def run_job(cloud, render_id: str, task_attempt: int = 0, timeout: float = 600) -> subprocess.CompletedProcess:
    """The render job as Cloud Run runs it (`python -m animate_job run`), here as a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "animate_job", "run"],
        env=job_environment(cloud, render_id, task_attempt),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def signed_adapters(cloud, settings: Settings | None = None) -> Adapters:
    """The cloud stack on the emulators, its Cloud Storage signing URLs as the service does."""
    from google.cloud import storage  # type: ignore[attr-defined]  # no type information

    from infra.storage.gcs import GcsStorage

    settings = settings or cloud["settings"]
    assert settings.renders_bucket is not None  # the cloud fixture made one
    signing = {
        "credentials": emulators.signing_credentials(),
        "api_access_endpoint": cloud["hosts"]["STORAGE_EMULATOR_HOST"],
    }
    return dataclasses.replace(
        bootstrap(settings),
        storage=GcsStorage(storage.Client(project=settings.gcp_project), settings.renders_bucket, signing=signing),
    )


def with_google_signin(cloud, provider: Provider) -> Settings:
    """The cloud settings with sign-in with Google at the local OpenID provider, and the tests' admin."""
    return Settings.model_validate(
        cloud["settings"].model_dump()
        | {
            "admin_emails": [ADMIN_EMAIL],
            "google_discovery_url": provider.discovery_url,
            "google_client_id": CLIENT_ID,
            "google_client_secret": CLIENT_SECRET,
        }
    )


def push_of(cloud, message) -> PushEnvelope:
    """The push body Pub/Sub would send for a pulled render request (its documented JSON form)."""
    body = {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": dict(message.attributes),
            "messageId": message.message_id,
            "publishTime": message.publish_time.isoformat(),
        },
        "subscription": cloud["subscriptions"]["render-requests"],
        "deliveryAttempt": 1,
    }
    return PushEnvelope.read(json.dumps(body).encode())
