"""A clip's files as the site serves them: who may keep a copy, Range requests as RFC 9110
section 14 has them, and the egress of a download counted for the bytes sent."""

from __future__ import annotations

import dataclasses

import pytest

from frontend_service import create_app
from infra.domain.pricing import egress_cost
from infra.domain.usage import UsageEvent
from infra.storage.local import LocalStorage
from infra.usage import UsageSink
from tests.conftest import ApiClient, signed_in, user_of

VIDEO = bytes(range(256)) * 4  # 1,024 bytes; the byte at each position is known
PRIVATE, PUBLIC = "private, no-store", "public, max-age=300"


class RecordedUsage(UsageSink):
    """The usage port, keeping what it is given."""

    def __init__(self):
        super().__init__()
        self.events: list[UsageEvent] = []

    def _send(self, event: UsageEvent) -> None:
        self.events.append(event)


@pytest.fixture
def usage():
    return RecordedUsage()


@pytest.fixture
def app(adapters, usage):
    return create_app({"TESTING": True, "START_WORKER": False}, dataclasses.replace(adapters, usage=usage))


@pytest.fixture
def owner(app):
    return signed_in(app, "sonya@example.com")  # publishing takes an account


@pytest.fixture
def visitor(app):
    return ApiClient(app.test_client())


@pytest.fixture
def clip(owner, finished_render):
    return finished_render(owner, video=VIDEO)


def fetch(person: ApiClient, path: str, method: str = "get", **headers):
    with getattr(person, method)(path, headers=headers) as response:
        response.body = response.data  # read whole, then closed: as a server finishes sending
        return response


FILES = ["files/video", "files/poster", "files/preview", "download"]


@pytest.mark.parametrize("file", FILES)
def test_a_private_clip_is_kept_by_no_cache(owner, visitor, clip, file):
    response = fetch(owner, f"/renders/{clip.id}/{file}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == PRIVATE and "Expires" not in response.headers
    assert fetch(visitor, f"/renders/{clip.id}/{file}").status_code == 404


@pytest.mark.parametrize("file", FILES)
def test_a_clip_in_the_gallery_may_be_cached_until_it_leaves(owner, visitor, clip, file):
    assert owner.post(f"/api/renders/{clip.id}/publish", json={}).status_code == 200
    response = fetch(visitor, f"/renders/{clip.id}/{file}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == PUBLIC
    assert fetch(owner, f"/renders/{clip.id}/{file}").headers["Cache-Control"] == PRIVATE  # the owner's own copy
    assert owner.delete(f"/api/renders/{clip.id}/publish").status_code == 200
    assert fetch(owner, f"/renders/{clip.id}/{file}").headers["Cache-Control"] == PRIVATE
    assert fetch(visitor, f"/renders/{clip.id}/{file}").status_code == 404


@pytest.mark.parametrize(
    "header, first, last",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, 1023),
        ("bytes=1023-1023", 1023, 1023),  # the last byte
        ("bytes=-24", 1000, 1023),
        ("bytes=-1024", 0, 1023),
        ("bytes=-5000", 0, 1023),  # a suffix longer than the file is the whole file (RFC 9110 14.1.2)
        ("bytes=100-5000", 100, 1023),  # a last position past the end is the end
        ("Bytes = 10 - 19", 10, 19),  # the unit is case-insensitive, whitespace is allowed
    ],
)
def test_one_satisfiable_range_is_sent_as_206(owner, clip, header, first, last):
    response = fetch(owner, f"/renders/{clip.id}/files/video", Range=header)
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/1024"
    assert response.body == VIDEO[first : last + 1]


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=1024-2000", "bytes=5000-", "bytes=-0"])
def test_one_unsatisfiable_range_is_416(owner, clip, header):
    response = fetch(owner, f"/renders/{clip.id}/files/video", Range=header)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */1024"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",  # invalid: ignored (RFC 9110 14.2 lets a server ignore it)
        "bytes=5-2",  # last before first: invalid
        "bytes",
        "=0-99",
        "bytes=0-99-",
        "bytes=--5",
        "items=0-9",  # a unit this server does not know: MUST be ignored
        "bytes=0-9,20-29",  # more than one range: this server ignores sets (it MAY)
        "bytes=0-9,5000-6000",
        "bytes=5000-,6000-",
        "bytes=0-0,-1",
    ],
)
def test_a_range_that_cannot_be_served_as_asked_is_ignored(owner, clip, header):
    response = fetch(owner, f"/renders/{clip.id}/files/video", Range=header)
    assert response.status_code == 200 and "Content-Range" not in response.headers
    assert response.body == VIDEO and response.headers["Accept-Ranges"] == "bytes"


def test_a_range_for_another_version_of_the_file_gets_the_whole_file(owner, clip):
    response = fetch(owner, f"/renders/{clip.id}/files/video", Range="bytes=0-9", **{"If-Range": '"elsewhere"'})
    assert response.status_code == 200 and response.body == VIDEO


def downloads(usage: RecordedUsage) -> list[tuple[int, float]]:
    return [(event.attributes["bytes"], event.cost_usd) for event in usage.events if event.kind == "download"]


def test_a_download_counts_the_bytes_it_sent(owner, clip, usage):
    response = fetch(owner, f"/renders/{clip.id}/download")
    assert response.status_code == 200 and response.body == VIDEO
    assert downloads(usage) == [(1024, egress_cost(1024))]
    [event] = usage.events
    assert (event.user_id, event.render_id, event.scene_id) == (clip.user_id, clip.id, clip.scene_id)


def test_a_range_of_a_download_counts_the_range(owner, clip, usage):
    assert fetch(owner, f"/renders/{clip.id}/download", Range="bytes=0-99").status_code == 206
    assert fetch(owner, f"/renders/{clip.id}/download", Range="bytes=-24").status_code == 206
    assert downloads(usage) == [(100, egress_cost(100)), (24, egress_cost(24))]


def test_head_304_and_416_send_no_file_and_count_nothing(owner, clip, usage):
    head = fetch(owner, f"/renders/{clip.id}/download", method="head")
    assert head.status_code == 200 and head.headers["Content-Length"] == "1024" and head.body == b""
    etag = head.headers["ETag"]
    assert fetch(owner, f"/renders/{clip.id}/download", **{"If-None-Match": etag}).status_code == 304
    assert fetch(owner, f"/renders/{clip.id}/download", Range="bytes=2000-").status_code == 416
    assert downloads(usage) == []


def test_whoever_downloads_a_gallery_clip_pays_its_egress(owner, visitor, clip, usage):
    assert owner.post(f"/api/renders/{clip.id}/publish", json={}).status_code == 200
    assert fetch(visitor, f"/renders/{clip.id}/download").status_code == 200
    [event] = [event for event in usage.events if event.kind == "download"]
    assert event.user_id == user_of(visitor) and event.attributes == {"bytes": 1024}


def test_a_download_stopped_half_way_counts_what_was_sent(owner, finished_render, usage):
    clip = finished_render(owner, video=bytes(100_000))
    response = owner.get(f"/renders/{clip.id}/download")
    assert response.status_code == 200 and response.headers["Content-Length"] == "100000"
    sent = next(iter(response.response))  # the server wrote one block, then the person went away
    response.close()
    assert 0 < len(sent) < 100_000
    assert downloads(usage) == [(len(sent), egress_cost(len(sent)))]


class SignedUrlStorage(LocalStorage):
    """Files in a folder, handed out as Cloud Storage hands them out: by a signed address."""

    def download_url(self, key: str, filename: str | None = None) -> str | None:
        return f"https://storage.example/{key}?X-Goog-Signature=abc"


def test_on_cloud_storage_the_download_redirects_uncached_and_counts_the_file(adapters, usage, finished_render):
    app = create_app(
        {"TESTING": True, "START_WORKER": False},
        dataclasses.replace(adapters, usage=usage, storage=SignedUrlStorage(adapters.storage.root)),
    )
    owner = ApiClient(app.test_client())
    clip = finished_render(owner, video=VIDEO)
    head = fetch(owner, f"/renders/{clip.id}/download", method="head")
    assert head.status_code == 302 and downloads(usage) == []
    response = fetch(owner, f"/renders/{clip.id}/download", Range="bytes=0-9")
    assert response.status_code == 302 and response.headers["Cache-Control"] == PRIVATE
    assert response.headers["Location"] == f"https://storage.example/{clip.artifacts['video']}?X-Goog-Signature=abc"
    assert downloads(usage) == [(1024, egress_cost(1024))]  # Cloud Storage sends it: counted whole
