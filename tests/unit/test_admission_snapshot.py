"""What one cloud instance reuses of the queue and of the measured render times
(frontend_service.admission._Snapshot): read again only once it is older than its time to
live, at the limit and one step past; every time with no time to live (one machine)."""

from __future__ import annotations

import itertools

import pytest

from frontend_service import admission
from frontend_service.admission import _Snapshot


@pytest.fixture
def moment(monkeypatch):
    """The monotonic clock the snapshot reads, set by the test."""
    now = {"s": 100.0}
    monkeypatch.setattr(admission.clock, "monotonic", lambda: now["s"])
    return now


def reader():
    reads = itertools.count(1)
    return lambda: f"read {next(reads)}"


def test_a_snapshot_is_reused_until_it_is_older_than_its_time_to_live(moment):
    snapshot = _Snapshot(reader(), ttl_s=5.0)
    assert snapshot.get() == "read 1"
    moment["s"] = 105.0  # exactly its time to live: still fresh
    assert snapshot.get() == "read 1"
    moment["s"] = 105.5
    assert snapshot.get() == "read 2"
    moment["s"] = 110.5
    assert snapshot.get() == "read 2"
    snapshot.clear()  # the queue changed here: read afresh
    assert snapshot.get() == "read 3"


def test_a_time_to_live_under_a_second_is_one_too(moment):
    snapshot = _Snapshot(reader(), ttl_s=0.5)
    assert [snapshot.get(), snapshot.get()] == ["read 1", "read 1"]
    moment["s"] = 100.75
    assert snapshot.get() == "read 2"


@pytest.mark.parametrize("ttl_s", [0.0, -1.0])
def test_without_a_time_to_live_every_get_reads(moment, ttl_s):
    snapshot = _Snapshot(reader(), ttl_s=ttl_s)
    assert [snapshot.get(), snapshot.get()] == ["read 1", "read 2"]  # the clock has not moved
