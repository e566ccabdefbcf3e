"""Admission's rules called directly over the embedded stack (real SQLite records and
counters), where the site's pages cannot pin the moment: the faster preset at the budget
and one step past, a person's own renders ahead of their new one, where a render stands
among its owner's, which renders have no place in the queue, and the counters' contention."""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from frontend_service import admission as admission_module
from frontend_service.admission import Admission, Busy
from frontend_service.identity import Person
from infra.counters import Contended
from infra.domain.ids import now
from infra.domain.queueing import Standing
from infra.domain.render import Render
from infra.settings import Settings
from tests.conftest import stored_render

TYPICAL_S = 20.0


def person(user_id: str) -> Person:
    return Person(user_id=user_id, account=False, address="127.0.0.1")


@pytest.fixture
def measured(adapters, make_render):
    """One finished render timed at 20 s: a typical render takes 20 s."""
    render = make_render("someone")
    adapters.records.mark_running(render.id, 1, "r")
    adapters.records.mark_succeeded(render.id, "r", {}, {"render_s": TYPICAL_S})


@pytest.mark.parametrize(("budget", "preset"), [(35, "standard"), (34, "draft"), (1, "draft"), (0, "standard")])
def test_the_faster_preset_comes_only_past_the_budget(adapters, make_render, measured, budget, preset):
    # Running since S, due at S + 20; another person's render waits ahead. At S + 5 a new
    # render starts after the running one's 15 s left and the waiting one's 20: in 35 s.
    running = make_render("other")
    adapters.records.mark_running(running.id, 1, "r")
    make_render("third")
    moment = stored_render(adapters.records, running.id).started_at + timedelta(seconds=5)
    adapters.settings.render_wait_budget_s = budget
    assert Admission(adapters).preset_for(person("new"), "standard", False, moment) == preset


def test_a_persons_own_waiting_renders_go_before_their_new_one(adapters, make_render, measured):
    # p and o have two renders waiting each: p's new render is p's third turn, after all
    # four (80 s, one at a time), not after the first turn of each (40 s).
    for owner in ("p", "o", "p", "o"):
        make_render(owner)
    adapters.settings.render_wait_budget_s = 60
    admission = Admission(adapters)
    moment = max(entry.created_at for entry in adapters.records.in_progress())
    assert admission.preset_for(person("p"), "standard", False, moment) == "draft"
    assert admission.preset_for(person("q"), "standard", False, moment) == "standard"  # 40 s for a newcomer


def test_a_render_stands_behind_its_owners_earlier_one(adapters, make_render):
    # p's two renders, then o's: p's second waits for p's first and o's (turn 0 before turn 1).
    first, second, _ = make_render("p"), make_render("p"), make_render("o")
    admission = Admission(adapters)
    assert admission.standing(first, first.created_at) is not None
    place = admission.standing(second, second.created_at)
    assert place is not None and (place.position, place.start) == (2, None)  # nothing measured yet


@pytest.mark.parametrize("state", ["succeeded", "failed", "cancelled"])
def test_a_finished_render_has_no_place(adapters, make_render, state):
    render = make_render("p").model_copy(update={"state": state})
    assert Admission(adapters).standing(render, render.created_at) is None


def test_counters_that_keep_changing_make_the_request_busy_with_their_reason(adapters, monkeypatch):
    def contended(limits, amount=1):
        raise Contended("renders:2031-01-01:user:p changed under every attempt")

    monkeypatch.setattr(adapters.counters, "take", contended)
    with pytest.raises(Busy, match=r"^renders:2031-01-01:user:p changed under every attempt$"):
        Admission(adapters).take_quota(person("p"), now())


def test_a_give_back_says_whether_the_render_came_back(adapters, make_render):
    admission, p = Admission(adapters), person("p")
    quota = adapters.settings.anonymous_daily_render_quota

    def started_and_cancelled(started: bool) -> bool:
        render = make_render("p")
        render.quota = admission.take_quota(p, render.created_at)
        return admission.give_back(render, p if started else None)

    assert started_and_cancelled(False) is True  # never left the queue: always back
    # Cancelled after it started: back only while the day's give-backs (as many as the quota) last.
    assert [started_and_cancelled(True) for _ in range(quota + 1)] == [True] * quota + [False]
    assert started_and_cancelled(False) is True  # the queue's give-backs are not counted
    assert admission.renders_left(p, now()) == (quota - 1, quota)


def test_no_give_back_for_a_started_render_whose_counters_are_not_the_person_s(adapters, make_render):
    """Started anonymously, cancelled once signed in (the render moved to the account): the
    counters it took are not the account's, so no allowance of theirs can count the give-back."""
    admission, visitor = Admission(adapters), person("anon-1")
    render = make_render("anon-1")
    render.quota = admission.take_quota(visitor, render.created_at)
    account = Person(user_id="local:ann@example.com", account=True, address="127.0.0.1")
    assert admission.give_back(render, account) is False
    assert [adapters.counters.value(key) for key in render.quota] == [1, 1]  # still taken
    assert admission.give_back(render, None) is True  # had it never started: back, whoever cancels


def test_a_reel_took_no_quota_so_cancelling_it_counts_no_give_back(adapters, make_render, caplog):
    admission, owner = Admission(adapters), person("p")
    reel = make_render("p")  # as a reel is stored: with no counters taken
    assert reel.quota == []
    with caplog.at_level(logging.WARNING, logger="frontend_service.admission"):
        assert admission.give_back(reel, owner) is True
    # no "no give-back left", no "no longer counts against"
    assert [record for record in caplog.records if record.name == "frontend_service.admission"] == []
    assert adapters.counters.value("give-backs:renders:" + now().date().isoformat() + ":user:p") == 0


def test_a_limits_day_is_the_utc_day_whatever_the_machines_time_zone(adapters, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        moment = datetime(2031, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=3)))  # 22:30 UTC on 31 December
        limits = Admission(adapters).limits(person("p"), moment)
        assert [limit.key for limit in limits] == ["renders:2030-12-31:user:p", "renders:2030-12-31:address:127.0.0.1"]
        assert {limit.expires_at for limit in limits} == {datetime(2031, 1, 1, tzinfo=UTC)}
    finally:
        monkeypatch.undo()
        time.tzset()


def test_everyone_without_an_assigned_plan_is_on_the_free_plan_at_their_quota(tmp_path):
    from infra.bootstrap import bootstrap
    from infra.domain.plan import Plan

    settings = Settings(data_dir=tmp_path, anonymous_daily_render_quota=2, daily_render_quota=7)
    admission = Admission(bootstrap(settings))
    assert admission.plan("visitor-1") == Plan(name="free", clip_seconds=(15,), daily_renders=2)
    assert admission.plan("google:1") == Plan(name="free", clip_seconds=(15,), daily_renders=7)


@pytest.mark.parametrize(("mode", "renders_ahead"), [("local", 0), ("cloud", 1)])
def test_the_queue_is_read_every_time_locally_and_every_few_seconds_on_google_cloud(
    adapters, make_render, tmp_path, monkeypatch, mode, renders_ahead
):
    """Many Cloud Run instances poll each render's status: each reads the queue (many
    Firestore documents) at most every CLOUD_QUEUE_SNAPSHOT_S. One machine reads SQLite
    every time, so a page never shows a render that has gone as still ahead."""
    monkeypatch.setattr(admission_module, "CLOUD_QUEUE_SNAPSHOT_S", 3600.0)  # however slow this machine is
    settings = Settings(mode=mode, gcp_project="books", renders_bucket="renders", data_dir=tmp_path)
    admission = Admission(dataclasses.replace(adapters, settings=settings))  # the SQLite records, either mode
    ahead, mine = make_render("other"), make_render("me")
    assert position(admission, mine) == 1  # one render ahead of it
    adapters.records.cancel(ahead.id)  # gone from the queue, a second later at most
    assert position(admission, mine) == renders_ahead


@pytest.mark.parametrize(("mode", "typical_after"), [("local", 20.0), ("cloud", None)])
def test_measured_times_are_read_every_time_locally_and_every_minute_on_google_cloud(
    adapters, make_render, tmp_path, monkeypatch, mode, typical_after
):
    monkeypatch.setattr(admission_module, "CLOUD_MEASUREMENTS_S", 3600.0)
    settings = Settings(mode=mode, gcp_project="books", renders_bucket="renders", data_dir=tmp_path)
    admission = Admission(dataclasses.replace(adapters, settings=settings))  # the SQLite records, either mode
    assert admission.typical_seconds() is None  # nothing measured yet
    render = make_render("someone")
    adapters.records.mark_running(render.id, 1, "r")
    adapters.records.mark_succeeded(render.id, "r", {}, {"render_s": 20.0})
    assert admission.typical_seconds() == typical_after


def position(admission: Admission, render) -> int:
    standing = admission.standing(render, now())
    assert standing is not None
    return standing.position


def test_a_sixty_second_clip_is_due_four_typical_clips_after_it_starts(adapters, make_render, storyboard_data):
    from infra.domain.render import Render
    from infra.domain.storyboard import Storyboard, resolve_spec

    measured = make_render("someone")  # a 15-second clip made in 20 s
    adapters.records.mark_running(measured.id, 1, "r")
    adapters.records.mark_succeeded(measured.id, "r", {}, {"render_s": 20.0})
    minute = Render(user_id="me", spec=resolve_spec(Storyboard.model_validate(storyboard_data | {"clip_seconds": 60})))
    adapters.records.create_render(minute)
    standing = Admission(adapters).standing(minute, now())
    assert standing is not None and standing.start is not None and standing.finish is not None
    assert (standing.finish - standing.start).total_seconds() == 80.0  # 20 s x 60 / 15


def test_a_reel_ahead_counts_no_seconds_of_clip_and_its_time_is_no_clips(adapters, make_render):
    """A reel joins clips already made (seconds to a minute): it neither holds the queue for
    a clip's time nor counts among the measured clips."""
    from infra.domain.reel import Reel, ReelPart

    measured = make_render("someone")  # a 15-second clip made in 20 s
    adapters.records.mark_running(measured.id, 1, "r")
    adapters.records.mark_succeeded(measured.id, "r", {}, {"render_s": 20.0})
    parts = [ReelPart(scene_id="s1", render_id=measured.id, duration_s=15.0)]
    finished_reel = Render(user_id="someone", spec=measured.spec, reel=Reel(book_id="b", title="t", parts=parts))
    adapters.records.create_render(finished_reel)
    adapters.records.mark_running(finished_reel.id, 1, "r")
    adapters.records.mark_succeeded(finished_reel.id, "r", {}, {"render_s": 2.0})
    queued_reel = Render(user_id="other", spec=measured.spec, reel=Reel(book_id="b", title="t", parts=parts))
    adapters.records.create_render(queued_reel)
    mine = make_render("me")
    admission = Admission(adapters)
    assert admission.typical_seconds() == 20.0  # the reel's 2 s is not a clip's time
    moment = now()
    standing = admission.standing(mine, moment)
    assert standing is not None and standing.position == 1  # behind the reel,
    assert standing.start == moment  # which holds it back no clip's time
    assert standing.finish == moment + timedelta(seconds=20)
    assert admission.standing(queued_reel, moment) == Standing(0, moment, moment)  # its own estimate: no clip
