"""The channel_reactions view (AvgReact and WeightedAvgReact over the Telegram channels), run
on DuckDB as the local reports run it, over events whose figures are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from infra.bigquery import view_sql
from infra.domain.usage import UsageEvent
from infra.usage.files import UsageFiles
from infra.usage.reports import UsageReports
from infra.usage.warehouse import UsageWarehouse

DAY, NEXT_DAY = date(2026, 11, 20), date(2026, 11, 21)
A, B = "-1001", "-1002"


def update(channel, post, likes, dislikes, subscribers, hour, day=DAY, event_id=None):
    return UsageEvent(
        event_id=event_id or f"channel-reaction-{channel}-{post}-{day}-{hour}",
        event_ts=datetime(day.year, day.month, day.day, hour, tzinfo=UTC),
        kind="channel_reaction",
        channel_id=channel,
        post_id=post,
        likes=likes,
        dislikes=dislikes,
        subscribers=subscribers,
    )


@pytest.fixture
def reports(tmp_path):
    sink = UsageFiles(tmp_path / "usage")
    events = [
        # Channel A, 1000 subscribers by the day's end (995 at 10:00). Post 1 was 3 👍, then
        # 5 👍 and 1 👎: only its latest counts count. Post 2: 1 👍, 1 👎 (delivered twice).
        update(A, 1, 3, 0, 990, hour=9),
        update(A, 1, 5, 1, 1000, hour=15),
        update(A, 2, 1, 1, 995, hour=10, event_id="a-2"),
        update(A, 2, 1, 1, 995, hour=10, event_id="a-2"),
        # Channel B, 3000 subscribers: posts of 2 👍; 3 👎; 4 👍 and 3 👎.
        update(B, 1, 2, 0, 3000, hour=8),
        update(B, 2, 0, 3, 3000, hour=11),
        update(B, 3, 4, 3, 3000, hour=12),
        # A post of A first seen the next day; its update on a third day still counts there.
        update(A, 3, 8, 0, 1010, hour=9, day=NEXT_DAY),
        update(A, 3, 9, 2, 1020, hour=9, day=date(2026, 11, 22)),
        # Gallery votes are not channel reactions.
        UsageEvent(kind="rating", render_id="r", status="up", event_ts=datetime(2026, 11, 20, 12, tzinfo=UTC)),
    ]
    reports = UsageReports(UsageWarehouse(tmp_path / "usage", tmp_path / "usage.duckdb"))
    # Loaded in pieces, as a running site loads them: post A1's newer counts, a2's second copy
    # and A3's update on a third day each come in a later load than what they replace.
    for piece in (events[:1], events[1:3], events[3:-2], events[-2:]):
        for event in piece:
            sink.record(event)
        reports.view("channel_reactions")
    return reports


def test_per_channel_and_overall_by_hand(reports):
    rows = {(r["day"], r["channel_id"]): r for r in reports.view("channel_reactions").dicts()}
    assert set(rows) == {(DAY, A), (DAY, B), (DAY, None), (NEXT_DAY, A), (NEXT_DAY, None)}

    a = rows[DAY, A]  # posts 1 and 2: 5 + 1 likes, 1 + 1 dislikes; the most subscribers that day
    assert (a["channels"], a["posts"], a["likes"], a["dislikes"], a["subscribers"]) == (1, 2, 6, 2, 1000)
    assert (a["avg_react"], a["avg_dislike"]) == (3.0, 1.0)
    b = rows[DAY, B]  # 2 + 0 + 4 likes, 0 + 3 + 3 dislikes over 3 posts
    assert (b["channels"], b["posts"], b["likes"], b["dislikes"], b["subscribers"]) == (1, 3, 6, 6, 3000)
    assert (b["avg_react"], b["avg_dislike"]) == (2.0, 2.0)

    every = rows[DAY, None]
    assert (every["channels"], every["posts"], every["likes"], every["dislikes"], every["subscribers"]) == (
        2,
        5,
        12,
        8,
        4000,
    )
    assert every["avg_react"] == pytest.approx(2.5)  # (3 + 2) / 2
    assert every["weighted_avg_react"] == pytest.approx(2.25)  # (1000 x 3 + 3000 x 2) / 4000
    assert every["avg_dislike"] == pytest.approx(1.5)  # (1 + 2) / 2
    assert every["weighted_avg_dislike"] == pytest.approx(1.75)  # (1000 x 1 + 3000 x 2) / 4000

    later = rows[NEXT_DAY, None]  # one channel, one post, at its latest counts
    assert (later["posts"], later["likes"], later["dislikes"], later["subscribers"]) == (1, 9, 2, 1020)
    assert later["avg_react"] == later["weighted_avg_react"] == 9.0


def test_a_period_keeps_its_days(reports):
    assert {r["day"] for r in reports.view("channel_reactions", NEXT_DAY, NEXT_DAY).dicts()} == {NEXT_DAY}


def test_the_view_is_the_one_bigquery_runs():
    sql = view_sql("channel_reactions", "my-project", "usage")
    assert "`my-project.usage.usage_events_unique`" in sql and "kind = 'channel_reaction'" in sql
