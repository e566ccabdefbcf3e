"""The storage contract on the local folder and on Cloud Storage (fake-gcs-server)."""

from __future__ import annotations

import urllib.parse
import urllib.request
import uuid
from datetime import timedelta

import pytest

from tests import emulators


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.emulator)])
def storage(request, tmp_path):
    if request.param == "local":
        from infra.storage.local import LocalStorage

        return LocalStorage(tmp_path / "files")
    return request.getfixturevalue("gcs_storage")


@pytest.fixture
def gcs_storage(gcs_emulator, monkeypatch):
    url = gcs_emulator
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs  # type: ignore[attr-defined]  # no type information

    from infra.storage.gcs import GcsStorage

    client = gcs.Client(project="test", credentials=AnonymousCredentials())
    bucket = f"renders-{uuid.uuid4().hex[:10]}"
    client.create_bucket(bucket)
    return GcsStorage(
        client, bucket, signing={"credentials": emulators.signing_credentials(), "api_access_endpoint": url}
    )


def test_put_size_delete(storage, tmp_path):
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"mp4 bytes")
    assert not storage.exists("renders/a/clip.mp4") and storage.size("renders/a/clip.mp4") is None
    assert storage.put_file("renders/a/clip.mp4", source, "video/mp4")
    assert storage.exists("renders/a/clip.mp4") and storage.size("renders/a/clip.mp4") == len(b"mp4 bytes")
    storage.delete("renders/a/clip.mp4")
    assert not storage.exists("renders/a/clip.mp4")
    storage.delete("renders/a/clip.mp4")  # twice is fine


def test_a_small_file_is_read_back_whole(storage, tmp_path):
    source = tmp_path / "clip.vtt"
    source.write_bytes("WEBVTT\n\n1\n00:00:00.000 --> 00:00:05.000\nТварь ли я дрожащая\n".encode())
    assert storage.read_bytes("renders/a/clip.vtt") is None
    storage.put_file("renders/a/clip.vtt", source, "text/vtt; charset=utf-8")
    assert storage.read_bytes("renders/a/clip.vtt") == source.read_bytes()


def test_a_retry_never_clobbers_a_finished_file(storage, tmp_path):
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    first.write_bytes(b"the finished clip")
    second.write_bytes(b"a retry's clip")
    assert storage.put_file("renders/a/clip.mp4", first, "video/mp4")
    assert not storage.put_file("renders/a/clip.mp4", second, "video/mp4")
    assert _read(storage, "renders/a/clip.mp4") == b"the finished clip"


@pytest.mark.emulator
def test_signed_urls_expire_within_the_hour_and_name_the_file(gcs_storage, tmp_path):
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"the clip")
    gcs_storage.put_file("renders/a/clip.mp4", source, "video/mp4")
    url = gcs_storage.download_url("renders/a/clip.mp4", "crime-and-punishment.mp4", lifetime=timedelta(hours=5))
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"] and query["X-Goog-Signature"]
    assert query["X-Goog-Expires"] == ["3600"]  # asked for five hours, given one
    assert query["response-content-disposition"] == ['attachment; filename="crime-and-punishment.mp4"']
    with urllib.request.urlopen(url) as response:  # the emulator serves it (it does not check signatures)
        assert response.read() == b"the clip"


def _read(storage, key: str) -> bytes:
    if hasattr(storage, "path_for"):
        return storage.path_for(key).read_bytes()
    return storage._bucket.blob(key).download_as_bytes()


def test_a_reachable_store_is_ready(storage):
    storage.check()  # raises when it is not


def test_a_missing_bucket_is_not_ready(gcs_emulator, monkeypatch):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs  # type: ignore[attr-defined]  # no type information

    from infra.storage.gcs import GcsStorage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    client = gcs.Client(project="test", credentials=AnonymousCredentials())
    with pytest.raises(Exception, match="404"):
        GcsStorage(client, "no-such-bucket").check()
