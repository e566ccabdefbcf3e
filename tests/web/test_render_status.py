"""The status request the render page makes: an ETag, 304 while unchanged, a wait for a
change (a long poll) with a bound and a cap, and no session cookie sent back on reads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from frontend_service.blueprints import api as api_blueprint
from infra.domain.storyboard import Storyboard, resolve_spec
from infra.records import stored_spec
from tests.conftest import ApiClient, user_of


@pytest.fixture
def render_id(api, make_render) -> str:
    return make_render(user_of(api)).id


def test_the_status_has_an_etag_and_an_unchanged_one_is_not_sent_again(api, render_id):
    first = api.get(f"/api/renders/{render_id}")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and first.get_json()["state"] == "queued"

    again = api.get(f"/api/renders/{render_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag


def test_a_changed_status_is_sent_with_a_new_etag(api, render_id, adapters):
    etag = api.get(f"/api/renders/{render_id}").headers["ETag"]
    adapters.records.mark_running(render_id, 1, "r")
    adapters.records.report_progress(render_id, "r", "denoising", 0.25)

    changed = api.get(f"/api/renders/{render_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert (changed.get_json()["state"], changed.get_json()["progress"]) == ("running", 0.25)


def test_a_wait_ends_when_the_status_changes(api, render_id, adapters, monkeypatch):
    etag = api.get(f"/api/renders/{render_id}").headers["ETag"]
    checks = []

    def sleep(seconds):  # the render starts while the request waits, at its second look
        checks.append(seconds)
        if len(checks) == 2:
            adapters.records.mark_running(render_id, 1, "r")

    monkeypatch.setattr(api_blueprint, "sleep", sleep)
    answer = api.get(f"/api/renders/{render_id}?wait=20", headers={"If-None-Match": etag})
    assert answer.status_code == 200 and answer.get_json()["state"] == "running"
    assert checks == [api_blueprint.WAIT_CHECK_S] * 2


def test_a_wait_without_a_change_ends_in_304_at_its_bound(api, render_id, monkeypatch):
    etag = api.get(f"/api/renders/{render_id}").headers["ETag"]
    clock = [1000.0]
    monkeypatch.setattr(api_blueprint, "monotonic", lambda: clock[0])
    monkeypatch.setattr(api_blueprint, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    answer = api.get(f"/api/renders/{render_id}?wait=3", headers={"If-None-Match": etag})
    assert answer.status_code == 304
    assert clock[0] == 1003.0  # six looks, half a second apart: three seconds, no more


def test_no_wait_without_the_etag_the_page_has(api, render_id, monkeypatch):
    monkeypatch.setattr(api_blueprint, "sleep", _must_not_wait)
    assert api.get(f"/api/renders/{render_id}?wait=20").status_code == 200  # no If-None-Match
    stale = api.get(f"/api/renders/{render_id}?wait=20", headers={"If-None-Match": '"an-older-status"'})
    assert stale.status_code == 200


def test_past_the_waiting_cap_the_answer_comes_at_once(api, render_id, monkeypatch):
    etag = api.get(f"/api/renders/{render_id}").headers["ETag"]
    monkeypatch.setattr(api_blueprint, "sleep", _must_not_wait)
    taken = 0
    try:
        while api_blueprint._waiting.acquire(blocking=False):  # every slot held by other waiting pages
            taken += 1
        assert taken == api_blueprint.MAX_WAITING == 2
        assert api.get(f"/api/renders/{render_id}?wait=20", headers={"If-None-Match": etag}).status_code == 304
    finally:
        for _ in range(taken):
            api_blueprint._waiting.release()


@pytest.mark.parametrize(("wait", "status"), [("0", 200), ("20", 200), ("21", 422), ("-1", 422), ("soon", 422)])
def test_a_wait_is_whole_seconds_up_to_twenty(api, render_id, wait, status, monkeypatch):
    monkeypatch.setattr(api_blueprint, "sleep", _must_not_wait)
    answer = api.get(f"/api/renders/{render_id}?wait={wait}")
    assert answer.status_code == status
    if status == 422:
        assert answer.get_json()["error"]["fields"][0]["field"] == "wait"


def test_a_wait_does_not_hold_more_than_its_own_thread(api, render_id, adapters, app):
    """While one page waits (for real), another person's status request is answered."""
    etag = api.get(f"/api/renders/{render_id}").headers["ETag"]
    waiting = threading.Thread(
        target=lambda: api.get(f"/api/renders/{render_id}?wait=20", headers={"If-None-Match": etag})
    )
    waiting.start()
    try:
        other = ApiClient(app.test_client())
        assert other.get(f"/api/renders/{render_id}").status_code == 404  # someone else's render
    finally:
        adapters.records.cancel(render_id)  # the change ends the wait
        waiting.join(timeout=30)
    assert not waiting.is_alive()


def _must_not_wait(seconds):
    raise AssertionError(f"the request waited ({seconds} s)")


# -- the session cookie --------------------------------------------------------------


def test_a_read_sends_no_session_cookie_once_the_session_has_one(api, render_id):
    # The ApiClient's first request made the anonymous session (and its CSRF token).
    for path in (f"/api/renders/{render_id}", "/api/session", "/"):
        assert "Set-Cookie" not in api.get(path).headers, path


def test_a_new_visitor_gets_a_cookie_that_keeps_their_id(client):
    first = client.get("/api/session")
    assert "Set-Cookie" in first.headers
    assert client.get("/api/session").get_json()["user"] == first.get_json()["user"]


def test_a_day_old_session_cookie_is_renewed_with_the_same_id(app, client):
    user = client.get("/api/session").get_json()["user"]
    client.set_cookie("session", _signed_at(app, client, datetime.now(UTC) - timedelta(days=1, minutes=1)))
    renewed = client.get("/api/session")
    assert "Set-Cookie" in renewed.headers and renewed.get_json()["user"] == user
    assert "Set-Cookie" not in client.get("/api/session").headers  # signed just now: not again
    assert client.get("/api/session").get_json()["user"] == user


def test_a_cookie_signed_just_under_a_day_ago_is_not_renewed(app, client):
    user = client.get("/api/session").get_json()["user"]
    client.set_cookie("session", _signed_at(app, client, datetime.now(UTC) - timedelta(days=1) + timedelta(minutes=1)))
    answer = client.get("/api/session")
    assert "Set-Cookie" not in answer.headers and answer.get_json()["user"] == user


def test_a_cookie_already_checked_is_refused_once_changed(app, client):
    user = client.get("/api/session").get_json()["user"]
    cookie = client.get_cookie("session")
    assert cookie is not None and client.get("/api/session").get_json()["user"] == user  # checked, remembered
    payload, timestamp, signature = cookie.value.rsplit(".", 2)
    forged = f"{payload}.{timestamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    client.set_cookie("session", forged)
    answer = client.get("/api/session")
    assert answer.get_json()["user"] != user and "Set-Cookie" in answer.headers  # a new anonymous session


@pytest.mark.parametrize(("age_past_lifetime_s", "kept"), [(0, True), (1, False)])
def test_a_cookie_already_checked_expires_to_the_second(app, client, monkeypatch, age_past_lifetime_s, kept):
    """A cookie as old as the session's lifetime is still good, a second older is not (as
    itsdangerous's max_age says), also when its signature was checked while it was young."""
    user = client.get("/api/session").get_json()["user"]
    cookie = client.get_cookie("session")
    assert cookie is not None and client.get("/api/session").get_json()["user"] == user  # checked, remembered
    signed_at = app.session_interface.get_signing_serializer(app).loads(cookie.value, return_timestamp=True)[1]
    later = int(signed_at.timestamp()) + int(app.permanent_session_lifetime.total_seconds()) + age_past_lifetime_s
    monkeypatch.setattr("frontend_service.identity.time.time", lambda: float(later))
    assert (client.get("/api/session").get_json()["user"] == user) is kept


def test_a_request_changing_its_session_leaves_the_checked_cookie_as_it_was(app):
    interface = app.session_interface
    cookie = interface.get_signing_serializer(app).dumps({"account": {"id": "local:a", "name": "A"}})
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}) as context:
        first = interface.open_session(app, context.request)
        first["account"]["name"] = "changed in place"
        again = interface.open_session(app, context.request)
    assert again["account"] == {"id": "local:a", "name": "A"}


def _signed_at(app, client, when: datetime) -> str:
    """The client's session, signed at `when` as Flask's own serializer signs it."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(cookie.value)

    class SignedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(when.timestamp())

    then = URLSafeTimedSerializer(
        app.secret_key,
        salt=serializer.salt,
        serializer=serializer.serializer,
        signer=SignedThen,
        signer_kwargs=serializer.signer_kwargs,
    )
    return then.dumps(data)


# -- stored records ------------------------------------------------------------------


def test_a_stored_spec_is_validated_once_and_read_back_equal(storyboard_data):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data))
    stored = spec.model_dump_json()
    assert stored_spec(stored) == spec
    assert stored_spec(stored) is stored_spec(stored)  # the second read trusts the first


def test_a_render_read_twice_has_its_spec_as_written(adapters, make_render):
    render = make_render("reader-1", preset="high")
    first, second = adapters.records.get_render(render.id), adapters.records.get_render(render.id)
    assert first is not None and second is not None
    assert first.spec == second.spec == render.spec and first.spec.preset == "high"
