"""Quotas that hold, rate limits every instance shares, and the spend breaker: each tried
the way a script that wants more renders than it is allowed would try it."""

from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, g

from frontend_service import create_app
from frontend_service.identity import Person
from infra.bootstrap import bootstrap
from infra.domain.usage import UsageEvent
from infra.spending import BREAKER_TRIPPED, record_render_attempt, spend_key
from tests.conftest import ApiClient, stored_render


def new_app(adapters, **settings) -> Flask:
    """Another instance of the site over the same data folder (its own connections)."""
    fresh = bootstrap(adapters.settings.model_copy(update=settings))
    return create_app({"TESTING": True, "START_WORKER": False}, fresh)


def as_person(app: Flask, person: Person) -> None:
    """Every request to the app is this person's (as a sign-in would make it)."""
    app.before_request(lambda: setattr(g, "person", person))


def with_storyboard(person: ApiClient, **headers) -> str:
    scene = person.post("/api/scenes", json={"text": "A lighthouse in a storm."}, headers=headers).get_json()
    assert person.post(f"/api/scenes/{scene['id']}/finish", headers=headers).status_code == 200
    return scene["id"]


def start(person: ApiClient, scene_id: str, **kwargs):
    return person.post(f"/api/scenes/{scene_id}/renders", json=kwargs.pop("json", {}), **kwargs)


def test_ten_requests_at_once_with_a_quota_of_one_start_one_render(adapters, app):
    """Before, the count and the insert were two steps: 10 at once started up to 3."""
    adapters.settings.anonymous_daily_render_quota = 1
    person = ApiClient(app.test_client())
    scene_id = with_storyboard(person)
    cookie = person.client.get_cookie("session").value
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def one_request():
        same = app.test_client()  # another connection, the same session cookie
        same.set_cookie("session", cookie)
        barrier.wait()
        statuses.append(
            same.post(f"/api/scenes/{scene_id}/renders", json={}, headers={"X-CSRFToken": person.token}).status_code
        )

    threads = [threading.Thread(target=one_request) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] + [429] * 9
    assert adapters.queue.depth() == 1


def test_six_fresh_cookie_jars_from_one_address_start_only_the_quota(adapters, app):
    """Before, the quota was per cookie: six jars from one address started six renders."""
    adapters.settings.anonymous_daily_render_quota = 2
    jars = [ApiClient(app.test_client()) for _ in range(6)]
    statuses = [start(jar, with_storyboard(jar)).status_code for jar in jars]
    assert statuses == [202, 202, 429, 429, 429, 429]
    assert len({jar.get("/api/session").get_json()["user"] for jar in jars}) == 6  # six people to the site


def test_a_forged_forwarded_for_earns_nothing_without_a_trusted_proxy(adapters, app):
    adapters.settings.anonymous_daily_render_quota = 2
    statuses = []
    for forged in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "10.0.0.1, 198.51.100.4"):
        jar = ApiClient(app.test_client())
        headers = {"X-Forwarded-For": forged}
        statuses.append(start(jar, with_storyboard(jar, **headers), headers=headers).status_code)
    assert statuses == [202, 202, 429, 429]


def starts_behind_one_proxy(adapters, callers: list[str]) -> list[int]:
    """Each caller in turn, with a fresh cookie jar, starts a render with a quota of one a day
    behind one trusted proxy (which appends the caller's address to X-Forwarded-For)."""
    app = new_app(adapters, trusted_proxies=1, anonymous_daily_render_quota=1)
    statuses = []
    for forwarded in callers:
        jar = ApiClient(app.test_client())
        headers = {"X-Forwarded-For": forwarded}
        statuses.append(start(jar, with_storyboard(jar, **headers), headers=headers).status_code)
    return statuses


def test_behind_one_trusted_proxy_each_caller_has_an_allowance_and_a_forged_first_hop_none(adapters):
    # Cloud Run's front end appends the caller's address; what the caller sent comes first.
    callers = ["203.0.113.5", "203.0.113.6", "10.9.9.9, 203.0.113.6", "10.9.9.8, 203.0.113.6"]
    assert starts_behind_one_proxy(adapters, callers) == [202, 202, 429, 429]


def test_ipv6_callers_count_by_their_64_a_home_connection_s_block(adapters):
    """One connection is given a /64 and may send each request from a new address in it."""
    callers = ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:DB8:1:3::1", "::ffff:203.0.113.5"]
    callers.append("203.0.113.5")  # the fourth, written as IPv4: the same caller
    # The second is in the first's /64; the third in the next /64; the fourth is IPv4 mapped into IPv6.
    assert starts_behind_one_proxy(adapters, callers) == [202, 429, 202, 202, 429]


def test_two_instances_over_one_data_folder_share_one_count(adapters):
    first, second = new_app(adapters, anonymous_daily_render_quota=3), new_app(adapters, anonymous_daily_render_quota=3)
    statuses = []
    for app in (first, second, first, second):
        jar = ApiClient(app.test_client())
        statuses.append(start(jar, with_storyboard(jar)).status_code)
    assert statuses == [202, 202, 202, 429]


def test_an_account_has_its_own_quota_wherever_it_comes_from(adapters, app):
    adapters.settings.anonymous_daily_render_quota = 1
    adapters.settings.daily_render_quota = 2
    anonymous = ApiClient(app.test_client())
    assert start(anonymous, with_storyboard(anonymous)).status_code == 202  # the address's allowance is used up
    signed_in = new_app(adapters, anonymous_daily_render_quota=1, daily_render_quota=2)
    as_person(signed_in, Person(user_id="local:reader@example.com", account=True, address="127.0.0.1"))
    account = ApiClient(signed_in.test_client())
    scene_id = with_storyboard(account)
    assert [start(account, scene_id).status_code for _ in range(3)] == [202, 202, 429]


def test_deleting_a_render_gives_no_quota_back(adapters, app):
    adapters.settings.anonymous_daily_render_quota = 1
    person = ApiClient(app.test_client())
    scene_id = with_storyboard(person)
    render_id = start(person, scene_id).get_json()["render_id"]
    adapters.records.mark_running(render_id, 1, "r")
    adapters.records.mark_failed(render_id, "the GPU caught fire", runner="r")
    assert person.delete(f"/api/renders/{render_id}").status_code == 204
    assert start(person, scene_id).status_code == 429


def test_cancelling_a_queued_render_gives_its_quota_back_once(adapters, app):
    adapters.settings.anonymous_daily_render_quota = 1
    person = ApiClient(app.test_client())
    scene_id = with_storyboard(person)
    render_id = start(person, scene_id).get_json()["render_id"]
    assert stored_render(adapters.records, render_id).quota == [
        f"renders:{datetime.now(UTC).date()}:user:{person.get('/api/session').get_json()['user']}",
        f"renders:{datetime.now(UTC).date()}:address:127.0.0.1",
    ]
    cancelled = person.post(f"/api/renders/{render_id}/cancel")
    assert (cancelled.status_code, cancelled.get_json()["state"]) == (200, "cancelled")
    assert "queue_position" not in cancelled.get_json()
    assert adapters.queue.depth() == 0  # the request is withdrawn
    assert person.post(f"/api/renders/{render_id}/cancel").status_code == 200  # again: no second give-back
    assert start(person, scene_id).status_code == 202
    assert start(person, scene_id).status_code == 429


def test_a_give_back_the_counters_refuse_is_lost_and_logged_with_the_render(adapters, make_render, caplog, monkeypatch):
    """The render is cancelled all the same; its person loses one render of the day, and the
    log says which render and why."""
    import sqlite3

    from frontend_service.admission import Admission

    admission = Admission(adapters)
    person = Person(user_id="anon-" + "a" * 32, account=False, address="127.0.0.1")
    render = make_render(person.user_id)
    render.quota = admission.take_quota(person, render.created_at)

    def locked(keys):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(adapters.counters, "give_back", locked)
    with caplog.at_level(logging.ERROR, logger="frontend_service.admission"):
        assert admission.give_back(render) is False
    # Only admission's own: a background thread of an earlier test may log meanwhile.
    [record] = [record for record in caplog.records if record.name == "frontend_service.admission"]
    assert record.getMessage() == f"could not give back the quota of cancelled render {render.id}"
    assert record.exc_info is not None and "database is locked" in str(record.exc_info[1])
    assert admission.renders_left(person, render.created_at)[0] == adapters.settings.anonymous_daily_render_quota - 1


def test_a_finished_render_cannot_be_cancelled_and_someone_elses_is_not_there(adapters, app):
    person = ApiClient(app.test_client())
    render_id = start(person, with_storyboard(person)).get_json()["render_id"]
    stranger = ApiClient(app.test_client())
    assert stranger.post(f"/api/renders/{render_id}/cancel").status_code == 404
    adapters.records.mark_running(render_id, 1, "r")
    adapters.records.mark_succeeded(render_id, "r", {}, {"render_s": 2.0})
    refused = person.post(f"/api/renders/{render_id}/cancel")
    assert refused.status_code == 409 and "already finished" in refused.get_json()["error"]["message"]
    assert stored_render(adapters.records, render_id).state == "succeeded"


def test_a_cancel_needs_the_csrf_token(app):
    person = ApiClient(app.test_client())
    render_id = start(person, with_storyboard(person)).get_json()["render_id"]
    assert person.client.post(f"/api/renders/{render_id}/cancel").status_code == 400


# Rate limits: counted per address for anonymous visitors, in the shared store.


def test_fresh_cookies_from_one_address_share_one_rate_limit(app):
    app.config["DIALOGUE_RATE_LIMIT"] = "2 per minute"
    statuses = [
        ApiClient(app.test_client()).post("/api/scenes", json={"text": "A lighthouse."}).status_code for _ in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_two_instances_share_one_rate_limit(adapters):
    first, second = new_app(adapters), new_app(adapters)
    for app in (first, second):
        app.config["DIALOGUE_RATE_LIMIT"] = "3 per minute"
    people = [ApiClient(app.test_client()) for app in (first, second, first, second)]
    statuses = [person.post("/api/scenes", json={"text": "A lighthouse."}).status_code for person in people]
    assert statuses == [201, 201, 201, 429]
    other = new_app(adapters)
    other.config["DIALOGUE_RATE_LIMIT"] = "3 per minute"
    as_person(other, Person(user_id="local:editor@example.com", account=True, address="127.0.0.1"))
    assert ApiClient(other.test_client()).post("/api/scenes", json={"text": "A lighthouse."}).status_code == 201


# The spend breaker.

DAY = datetime(2031, 5, 4, 21, 30, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """The site's and the counters' now, moved by the test."""
    import frontend_service.blueprints.api
    import frontend_service.blueprints.errors
    import frontend_service.flow
    import infra.counters.sqlite

    moment = {"now": DAY}

    def now():
        return moment["now"]

    for module in (
        frontend_service.flow,
        infra.counters.sqlite,
        frontend_service.blueprints.errors,
        frontend_service.blueprints.api,
    ):
        monkeypatch.setattr(module, "now", now)
    return moment


def spend(adapters, micro_usd: int, day: datetime = DAY) -> None:
    adapters.counters.add(spend_key(day.date()), micro_usd, day + timedelta(days=2))


def test_the_breaker_trips_at_the_cap_and_resets_at_midnight(adapters, app, clock):
    adapters.settings.daily_spend_cap_usd = 1.0
    person = ApiClient(app.test_client())
    scene_id = with_storyboard(person)
    spend(adapters, 999_999)  # one micro-dollar below the cap
    assert start(person, scene_id).status_code == 202
    spend(adapters, 1)  # at the cap
    refused = start(person, scene_id)
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "spend_cap"
    assert error["message"] == (
        "Today's rendering budget is used up. New renders start again at 00:00 UTC, in 2 h 30 min; "
        "renders already queued will still be made."
    )
    # flask-limiter rewrites Retry-After from the wall clock, in whole seconds.
    assert 150 * 60 - 2 <= int(refused.headers["Retry-After"]) <= 150 * 60
    assert adapters.queue.depth() == 1  # nothing stored for the refused request
    clock["now"] = datetime(2031, 5, 5, 0, 0, tzinfo=UTC)  # the next UTC day
    assert start(person, scene_id).status_code == 202


def test_the_breaker_speaks_the_persons_language(adapters, app, clock):
    adapters.settings.daily_spend_cap_usd = 0.5
    spend(adapters, 500_000)
    person = ApiClient(app.test_client())
    scene_id = with_storyboard(person)
    refused = start(person, scene_id, headers={"Accept-Language": "ru"})
    assert refused.get_json()["error"]["message"].startswith("Дневной бюджет на рендеры исчерпан")


def test_an_admin_is_exempt_from_the_breaker(adapters, clock):
    admin_app = new_app(adapters, daily_spend_cap_usd=1.0)
    as_person(
        admin_app, Person(user_id="iap:42", account=True, address="127.0.0.1", email="ops@example.com", admin=True)
    )
    spend(adapters, 5_000_000)
    admin = ApiClient(admin_app.test_client())
    assert start(admin, with_storyboard(admin)).status_code == 202


def test_queued_work_is_still_made_after_the_breaker_trips(adapters, app, clock, tiny_renderer):
    from animate_job.run import run_render

    adapters.settings.daily_spend_cap_usd = 1.0
    person = ApiClient(app.test_client())
    render_id = start(person, with_storyboard(person), json={"preset": "draft"}).get_json()["render_id"]
    spend(adapters, 2_000_000)
    assert start(person, with_storyboard(person)).status_code == 429
    delivery = adapters.queue.claim()
    assert delivery is not None and delivery.render_id == render_id
    assert run_render(render_id, adapters, load_renderer=lambda base, adapter: tiny_renderer) == 0
    assert stored_render(adapters.records, render_id).state == "succeeded"


def attempt(cost_usd: float) -> UsageEvent:
    return UsageEvent(kind="render", render_id="r", status="succeeded", cost_usd=cost_usd, event_ts=DAY)


def test_the_spend_adds_up_and_the_alert_line_is_written_once_when_the_cap_is_crossed(adapters, caplog, clock):
    adapters.settings.daily_spend_cap_usd = 0.10
    caplog.set_level(logging.ERROR, logger="infra.spending")
    record_render_attempt(adapters, attempt(0.06))
    assert not caplog.records
    record_render_attempt(adapters, attempt(0.04))  # exactly at the cap: it trips
    record_render_attempt(adapters, attempt(0.03))  # past it: no second alert
    assert adapters.counters.value(spend_key(DAY.date())) == 130_000
    [line] = caplog.records
    assert line.getMessage().startswith(f"{BREAKER_TRIPPED}: today's render spend reached 0.10 USD")
    assert line.levelno == logging.ERROR


def test_spend_is_kept_without_a_cap_and_no_alert_fires(adapters, caplog, clock):
    caplog.set_level(logging.ERROR, logger="infra.spending")
    record_render_attempt(adapters, attempt(5.0))
    assert adapters.counters.value(spend_key(DAY.date())) == 5_000_000 and not caplog.records


def test_renders_with_a_fresh_data_folder_are_unaffected(adapters, app):
    """No cap set (the default): the breaker never refuses."""
    assert dataclasses.replace(adapters).settings.daily_spend_cap_usd is None
    person = ApiClient(app.test_client())
    assert start(person, with_storyboard(person)).status_code == 202
