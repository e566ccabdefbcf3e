"""The counters contract: all-or-none takes, expiry, give-back, shared by every instance.
Every test runs on the SQLite adapter and on the Firestore adapter against its emulator."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from infra.counters import Counters, Limit

T0 = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)


class Clock:
    """The adapters' idea of now, moved by the test (no sleeping)."""

    def __init__(self):
        self.moment = T0

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock(monkeypatch):
    import infra.counters.firestore
    import infra.counters.sqlite

    clock = Clock()
    monkeypatch.setattr(infra.counters.sqlite, "now", clock)
    monkeypatch.setattr(infra.counters.firestore, "now", clock)
    return clock


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)])
def new_counters(request, settings, clock):
    """Makes counters over one store; each call is another instance (its own connections
    or client), as another process or Cloud Run instance would have."""
    if request.param == "sqlite":
        from infra.counters.sqlite import SqliteCounters
        from infra.sqlite import SqliteDatabase

        return lambda: SqliteCounters(SqliteDatabase(settings.database_path))
    host = request.getfixturevalue("firestore_emulator")
    request.getfixturevalue("monkeypatch").setenv("FIRESTORE_EMULATOR_HOST", host)
    from google.cloud import firestore

    from infra.counters.firestore import FirestoreCounters

    project = f"test-{uuid.uuid4().hex[:12]}"
    return lambda: FirestoreCounters(firestore.Client(project=project))


@pytest.fixture
def counters(new_counters) -> Counters:
    return new_counters()


def daily(key: str, maximum: int) -> Limit:
    return Limit(key, maximum, T0 + timedelta(hours=12))


def test_a_take_counts_up_to_the_maximum_and_no_further(counters):
    limit = daily("renders:user:a", 2)
    assert counters.take([limit]) is None
    assert counters.take([limit]) is None
    assert counters.take([limit]) == limit  # the third: refused, by that limit
    assert counters.value("renders:user:a") == 2


def test_a_take_adds_to_every_counter_or_to_none(counters):
    cookie, address = daily("renders:cookie:x", 5), daily("renders:address:203.0.113.7", 1)
    assert counters.take([cookie, address]) is None
    assert counters.take([cookie, address]) == address
    assert (counters.value(cookie.key), counters.value(address.key)) == (1, 1)  # the cookie's count did not move


def test_a_maximum_of_zero_refuses_at_once_and_takes_nothing(counters):
    free, none = daily("a", 3), daily("b", 0)
    assert counters.take([free, none]) == none
    assert counters.value("a") == 0


def test_a_counter_expires_and_starts_again(counters, clock):
    limit = Limit("renders:day", 1, T0 + timedelta(hours=1))
    assert counters.take([limit]) is None
    assert counters.expires_at("renders:day") == T0 + timedelta(hours=1)
    clock.moment = T0 + timedelta(hours=1) - timedelta(microseconds=1)
    assert counters.take([limit]) == limit  # one microsecond before: still counted
    clock.moment = T0 + timedelta(hours=1)
    assert counters.value("renders:day") == 0 and counters.expires_at("renders:day") is None
    later = Limit("renders:day", 1, T0 + timedelta(hours=2))
    assert counters.take([later]) is None  # a new window, with its own end
    assert counters.expires_at("renders:day") == T0 + timedelta(hours=2)


def test_give_back_undoes_a_take_and_never_goes_below_zero(counters):
    limit = daily("renders:user:b", 1)
    counters.take([limit])
    counters.give_back(["renders:user:b"])
    assert counters.value("renders:user:b") == 0
    counters.give_back(["renders:user:b", "never-taken"])
    assert counters.value("renders:user:b") == 0 and counters.value("never-taken") == 0
    assert counters.take([limit]) is None


def test_give_back_never_lands_in_a_later_window(counters, clock):
    counters.take([Limit("k", 5, T0 + timedelta(minutes=1))])
    clock.moment = T0 + timedelta(minutes=2)
    counters.give_back(["k"])  # the window it was taken in is over
    counters.take([Limit("k", 5, T0 + timedelta(minutes=3))])
    assert counters.value("k") == 1


def test_add_has_no_maximum_and_keeps_a_live_counters_expiry(counters, clock):
    assert counters.add("spend:2031-05-04", 250_000, T0 + timedelta(days=1)) == 250_000
    assert counters.add("spend:2031-05-04", 1_000_000, T0 + timedelta(days=9)) == 1_250_000
    assert counters.expires_at("spend:2031-05-04") == T0 + timedelta(days=1)
    clock.moment = T0 + timedelta(days=1)
    assert counters.add("spend:2031-05-04", 7, T0 + timedelta(days=2)) == 7


def test_keys_may_hold_any_characters_and_clear_forgets(counters):
    key = "LIMITER/address:2001:db8::1/api.start_render/10/1/minute"
    assert counters.take([daily(key, 10)]) is None
    assert counters.value(key) == 1 and counters.value(key.replace("/", "|")) == 0
    counters.clear(key)
    assert counters.value(key) == 0


def test_a_take_naming_a_counter_twice_is_a_mistake(counters):
    with pytest.raises(ValueError, match="more than once"):
        counters.take([daily("same", 2), daily("same", 2)])


def test_ten_takes_at_once_from_two_instances_with_room_for_one_take_one(new_counters):
    instances = [new_counters(), new_counters()]
    limits = [daily("renders:user:c", 1), daily("renders:address:198.51.100.4", 3)]
    barrier = threading.Barrier(10)
    outcomes: list[Limit | None] = []

    def take(index: int):
        barrier.wait()
        outcomes.append(instances[index % 2].take(limits))

    threads = [threading.Thread(target=take, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(None) == 1 and outcomes.count(limits[0]) == 9
    assert [instances[1].value(limit.key) for limit in limits] == [1, 1]


def test_reachable_counters_are_ready(counters):
    counters.check()
