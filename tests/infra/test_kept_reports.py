"""Each report's rows kept as a table (infra.usage.warehouse): made again, as events load,
for the days the new events fall on, by the view itself over those days' events. Whatever
the order and the pieces the events load in, the kept rows are the view's rows over every
event at once; the by-hand figures are in test_usage_views.py and test_channel_reactions_view.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from infra.bigquery import UNIQUE, view_names
from infra.domain.usage import UsageEvent
from infra.usage import warehouse as module
from infra.usage.files import UsageFiles
from infra.usage.reports import UsageReports
from infra.usage.warehouse import KEPT, UsageWarehouse, report_table, unique_duckdb_sql, view_duckdb_sql

MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)  # the end of a month: a day and a month turn at once
TICK = timedelta(microseconds=1)


def _events() -> list[UsageEvent]:
    """Every kind, on both sides of a midnight that ends a month (one microsecond apart),
    renders retried across it, votes, channel posts updated on later days, copies."""
    before, after = MIDNIGHT - TICK, MIDNIGHT
    events = [
        UsageEvent(kind="dialogue_turn", user_id="a", cost_usd=0.001, event_ts=before),
        UsageEvent(kind="dialogue_turn", user_id="a", cost_usd=0.002, event_ts=after),
        UsageEvent(kind="render", user_id="a", render_id="r1", status="failed", wall_seconds=9.0, event_ts=before),
        UsageEvent(kind="render", user_id="a", render_id="r1", status="succeeded", wall_seconds=30.0, event_ts=after),
        UsageEvent(kind="render", user_id="b", render_id="r2", status="succeeded", wall_seconds=12.0, event_ts=before),
        UsageEvent(kind="rating", user_id="c", render_id="r1", status="up", event_ts=after),
        UsageEvent(kind="rating", user_id="d", render_id="r2", status="down", event_ts=before),
        UsageEvent(kind="download", user_id="c", render_id="r1", cost_usd=0.0005, event_ts=after + timedelta(days=3)),
    ]
    for day, likes in ((-2, 1), (0, 4), (5, 7)):  # one post's counts, first seen two days before the midnight
        events.append(
            UsageEvent(
                kind="channel_reaction",
                channel_id="-100",
                post_id=1,
                likes=likes,
                dislikes=day + 2,
                subscribers=500 + day,
                event_ts=MIDNIGHT + timedelta(days=day, hours=1),
            )
        )
    events.append(
        UsageEvent(kind="channel_reaction", channel_id="-200", post_id=1, likes=2, subscribers=90, event_ts=after)
    )
    return events


def _stack(tmp_path) -> tuple[UsageFiles, UsageWarehouse, UsageReports]:
    """The usage files, the warehouse that loads them and the reports over it, as a site has them."""
    sink = UsageFiles(tmp_path / "usage")
    warehouse = UsageWarehouse(sink.folder, tmp_path / "usage.duckdb")
    return sink, warehouse, UsageReports(warehouse)


def _every_view_at_once(warehouse: UsageWarehouse) -> dict[str, list[tuple]]:
    """The views themselves over every delivery of every event, each once as BigQuery's view
    of the events each once keeps it (infra/bigquery/usage_events_unique.sql), not the table
    the warehouse keeps."""
    with warehouse.connection() as connection:
        connection.execute(f"CREATE OR REPLACE TEMP VIEW {UNIQUE} AS {unique_duckdb_sql()}")
        try:
            return {
                name: connection.execute(
                    f"SELECT * FROM ({view_duckdb_sql(name, 'temp', 'main')}) ORDER BY ALL"
                ).fetchall()
                for name in view_names()
            }
        finally:
            connection.execute(f"DROP VIEW temp.main.{UNIQUE}")


def _kept(reports: UsageReports) -> dict[str, list[tuple]]:
    return {name: rows.rows for name, rows in reports.views(view_names()).items()}


@pytest.mark.parametrize(
    "order",
    [
        "together",  # one load
        "one by one",  # a load per event
        "newest first",  # each load changes days that already have rows
    ],
)
def test_the_kept_rows_are_the_view_s_rows_over_every_event(tmp_path, order):
    events = _events()
    copies = [events[0], events[3], events[-2]]  # delivered twice, the copy in a later load
    if order == "newest first":
        events = sorted(events, key=lambda event: event.event_ts, reverse=True)
    sink, warehouse, reports = _stack(tmp_path)
    for event in [*events, *copies]:
        sink.record(event)
        if order != "together":
            reports.views(view_names())
    kept = _kept(reports)
    assert kept == _every_view_at_once(warehouse)
    # A few figures by hand, so that both sides being wrong the same way is caught too.
    assert {(row[0], row[1], row[2]) for row in kept["daily_cost"] if row[1] == "dialogue_turn"} == {
        (date(2026, 11, 30), "dialogue_turn", 1),
        (date(2026, 12, 1), "dialogue_turn", 1),
    }
    # November: a's turn, both renders' attempts before midnight, d's vote, the post first seen.
    assert [(row[0], row[1]) for row in kept["stage_budget"]] == [(date(2026, 11, 1), 5), (date(2026, 12, 1), 7)]
    # The post counts on the day it was first seen (29 November) at its latest counts (5 days later).
    [post] = [row for row in kept["channel_reactions"] if row[0] == date(2026, 11, 29) and row[1] == "-100"]
    assert post[2:7] == (1, 1, 7, 7, 505)


def test_a_report_whose_view_changed_is_made_again_from_every_event(tmp_path):
    sink = UsageFiles(tmp_path / "usage")
    for event in _events():
        sink.record(event)
    warehouse = UsageWarehouse(sink.folder, tmp_path / "usage.duckdb")
    reports = UsageReports(warehouse)
    before = _kept(reports)
    with duckdb.connect(str(warehouse.path)) as connection:  # as a database made by an older view leaves it
        connection.execute(f"UPDATE {KEPT.removeprefix('usage.')} SET sql = 'SELECT 1' WHERE name = 'daily_cost'")
        connection.execute(f"DELETE FROM {report_table('daily_cost').removeprefix('usage.')}")
    assert _kept(reports) == before
    assert before["daily_cost"]


def test_a_load_stopped_before_the_reports_were_made_again_is_finished_by_the_next(tmp_path, monkeypatch):
    sink, warehouse, reports = _stack(tmp_path)
    first, *rest = _events()
    sink.record(first)
    reports.views(view_names())
    for event in rest:
        sink.record(event)
    refresh = module._refresh_reports

    def killed(connection):
        raise KeyboardInterrupt  # the events are in, their days noted; the reports not made again

    monkeypatch.setattr(module, "_refresh_reports", killed)
    with pytest.raises(KeyboardInterrupt):
        reports.views(view_names())
    monkeypatch.setattr(module, "_refresh_reports", refresh)
    assert _kept(reports) == _every_view_at_once(warehouse)
    assert sum(row[2] for row in _kept(reports)["daily_cost"]) == len(rest) + 1


def _load_in_pieces(tmp_path, pieces: list[list[UsageEvent]], name: str, columns: slice) -> list[list[tuple]]:
    """The report's rows after each load, a load per piece, as a running site loads them."""
    sink = UsageFiles(tmp_path / "usage")
    reports = UsageReports(UsageWarehouse(sink.folder, tmp_path / "usage.duckdb"))
    after = []
    for piece in pieces:
        for event in piece:
            sink.record(event)
        after.append([row[columns] for row in reports.view(name).rows])
    return after


def _post(post: int, likes: int, subscribers: int, at: datetime) -> UsageEvent:
    return UsageEvent(
        kind="channel_reaction",
        channel_id="-300",
        post_id=post,
        likes=likes,
        dislikes=0,
        subscribers=subscribers,
        event_ts=at,
    )


def test_a_post_is_made_again_on_the_day_it_was_first_seen_whenever_its_updates_come(tmp_path):
    """Only the first-seen days of the posts a load touches are made again: with every post
    first seen on them, at their latest counts, and no post first seen on another day."""
    dec = [datetime(2026, 12, day, tzinfo=UTC) for day in range(1, 6)]  # dec[0] is 1 December
    hour = timedelta(hours=1)
    pieces = [
        # Q first seen on the 1st; P1 and P2 on the 3rd.
        [
            _post(9, 5, 100, dec[0] + 9 * hour),
            _post(1, 1, 100, dec[2] + 10 * hour),
            _post(2, 2, 100, dec[2] + 11 * hour),
        ],
        [_post(9, 6, 110, dec[2] + 12 * hour)],  # Q's later counts, stamped the 3rd: Q still counts on the 1st
        [_post(1, 4, 120, dec[4])],  # P1's counts two days later, on P1's day
        [_post(2, 0, 90, dec[1] + 8 * hour)],  # stamped before P2 was first seen, come last: P2 moves to the 2nd
    ]
    after = _load_in_pieces(tmp_path, pieces, "channel_reactions", slice(0, 7))
    channel = [[row for row in rows if row[1] == "-300"] for rows in after]
    # (day, channel, channels, posts, likes, dislikes, subscribers: the most of its posts' latest updates)
    assert channel == [
        [(date(2026, 12, 1), "-300", 1, 1, 5, 0, 100), (date(2026, 12, 3), "-300", 1, 2, 3, 0, 100)],
        [(date(2026, 12, 1), "-300", 1, 1, 6, 0, 110), (date(2026, 12, 3), "-300", 1, 2, 3, 0, 100)],
        [(date(2026, 12, 1), "-300", 1, 1, 6, 0, 110), (date(2026, 12, 3), "-300", 1, 2, 6, 0, 120)],
        # P2 at its latest counts (2 likes, 100 subscribers: the update stamped the 3rd) on the 2nd.
        [
            (date(2026, 12, 1), "-300", 1, 1, 6, 0, 110),
            (date(2026, 12, 2), "-300", 1, 1, 2, 0, 100),
            (date(2026, 12, 3), "-300", 1, 1, 4, 0, 120),
        ],
    ]
    assert [(row[0], row[3]) for row in after[-1] if row[1] is None] == [
        (date(2026, 12, 1), 1),
        (date(2026, 12, 2), 1),
        (date(2026, 12, 3), 1),
    ]


def test_a_month_loaded_in_pieces_is_its_days_added_up(tmp_path):
    """stage_budget's month after each load: a day kept before, loaded again with more
    events; the month's last microsecond and the next month's first; a copy counted once."""
    nov3 = UsageEvent(kind="download", cost_usd=0.5, event_ts=datetime(2026, 11, 3, 12, tzinfo=UTC))
    pieces = [
        [nov3, UsageEvent(kind="download", cost_usd=0.25, event_ts=datetime(2026, 11, 10, 8, tzinfo=UTC))],
        [
            UsageEvent(kind="download", cost_usd=1.0, event_ts=datetime(2026, 11, 10, 20, tzinfo=UTC)),
            UsageEvent(kind="download", cost_usd=2.0, event_ts=MIDNIGHT),
        ],
        [UsageEvent(kind="download", cost_usd=4.0, event_ts=MIDNIGHT - TICK), nov3],
    ]
    after = _load_in_pieces(tmp_path, pieces, "stage_budget", slice(0, 3))
    assert after == [
        [(date(2026, 11, 1), 2, 0.75)],
        [(date(2026, 11, 1), 3, 1.75), (date(2026, 12, 1), 1, 2.0)],
        [(date(2026, 11, 1), 4, 5.75), (date(2026, 12, 1), 1, 2.0)],
    ]


@pytest.mark.parametrize(
    "column", ["AVG(cost_usd)", "COUNT(DISTINCT user_id)", "SUM(DISTINCT cost_usd)", "MAX(cost_usd)"]
)
def test_a_monthly_view_that_cannot_be_added_up_from_days_is_refused(monkeypatch, column):
    module.month_from_days_sql.cache_clear()
    monkeypatch.setattr(
        module,
        "view_sql",
        lambda name, project, dataset: (
            f"SELECT DATE_TRUNC(DATE(event_ts), MONTH) AS month, COUNT(*) AS events, {column} AS other "
            f"FROM `{project}.{dataset}.usage_events_unique` GROUP BY month"
        ),
    )
    try:
        with pytest.raises(ValueError, match=r"stage_budget\.other cannot be added up from days"):
            module.month_from_days_sql("stage_budget")
    finally:
        monkeypatch.undo()
        module.month_from_days_sql.cache_clear()
    assert "SUM(events) AS events" in module.month_from_days_sql("stage_budget")


def test_a_database_from_before_the_kept_days_and_posts_gains_them(tmp_path, monkeypatch):
    """Even with a load that stopped before its reports were made again: the version before
    made channel_reactions again whole, so it noted no post's day."""
    events = _events()
    sink = UsageFiles(tmp_path / "usage")
    for event in events[:6]:
        sink.record(event)
    warehouse = UsageWarehouse(sink.folder, tmp_path / "usage.duckdb")
    reports = UsageReports(warehouse)
    reports.views(view_names())
    for event in events[6:11]:  # a vote, a download and every update of post -100/1
        sink.record(event)
    refresh = module._refresh_reports

    def killed(connection):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "_refresh_reports", killed)
    with pytest.raises(KeyboardInterrupt):
        reports.views(view_names())
    monkeypatch.setattr(module, "_refresh_reports", refresh)
    with duckdb.connect(str(warehouse.path)) as connection:  # as the version before them leaves a database
        for table in (module.CHANNEL_POSTS, module.STALE_POST_DAYS, module.days_table("stage_budget")):
            connection.execute(f"DROP TABLE {table.removeprefix('usage.')}")
    sink.record(events[11])  # another channel's post, first seen on another day
    assert _kept(reports) == _every_view_at_once(warehouse)


def test_a_database_from_before_a_column_was_added_gains_it_in_the_events_each_once_too(tmp_path):
    sink, warehouse, reports = _stack(tmp_path)
    sink.record(UsageEvent(kind="render", render_id="r1", status="succeeded", event_ts=MIDNIGHT))
    reports.views(view_names())
    with duckdb.connect(str(warehouse.path)) as connection:  # as a database made before clips had lengths
        connection.execute("DROP INDEX usage_events_unique_event_id")  # and before the index of kept ids
        for table in ("usage_events", "usage_events_unique"):
            connection.execute(f"ALTER TABLE {table} DROP COLUMN clip_seconds")
    sink.record(UsageEvent(kind="render", render_id="r2", status="succeeded", clip_seconds=60, event_ts=MIDNIGHT))
    rows = reports.view("clip_lengths").rows
    assert _kept(reports) == _every_view_at_once(warehouse)
    # (day, clip_seconds, renders, succeeded): r1, from before lengths, is a 15 s clip.
    assert [row[:4] for row in rows] == [(date(2026, 12, 1), 15, 1, 1), (date(2026, 12, 1), 60, 1, 1)]


@pytest.mark.parametrize("lookup_max", [2, 3])  # the second load's 3 ids: one scan, or looked up in the index
def test_copies_of_kept_events_are_kept_out_whichever_way_they_are_found(tmp_path, monkeypatch, lookup_max):
    monkeypatch.setattr(module, "LOOKUP_MAX", lookup_max)
    sink, warehouse, reports = _stack(tmp_path)
    first = [UsageEvent(kind="download", cost_usd=0.5, event_ts=MIDNIGHT + timedelta(hours=n)) for n in range(3)]
    for event in first:
        sink.record(event)
    reports.views(view_names())
    new = UsageEvent(kind="download", cost_usd=0.25, event_ts=MIDNIGHT)
    for event in [first[0], first[2], new, new, first[0]]:  # two kept events again, a new one twice
        sink.record(event)
    [row] = reports.view("daily_cost").rows
    assert row == (date(2026, 12, 1), "download", 4, 1.75)
    assert len(warehouse.events()) == 8  # every delivery is in the table of events as they came
    with warehouse.connection() as connection:  # the index the lookups use
        assert connection.execute(
            "SELECT count(*) FROM duckdb_indexes() WHERE index_name = 'usage_events_unique_event_id' AND is_unique"
        ).fetchone() == (1,)


def test_the_bench_s_events_loaded_in_shuffled_pieces_keep_the_view_s_rows(tmp_path):
    """Thousands of events of every kind over 30 days (bench_reports' generator: copies, posts
    updated on later days), written in a shuffled order to files of random sizes and loaded
    now and then. Costs are float sums added in another order, so they are equal to the last
    few bits, not bit for bit (a view's own sums are in no fixed order either)."""
    import json
    import random

    from tests.benchmarks.bench_reports import DAYS, GENERATE

    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(module.create_table_sql())
        connection.execute(GENERATE, [3000, datetime(2026, 12, 20, tzinfo=UTC), DAYS * 86400, 50, 3000, 3000])
        cursor = connection.execute("SELECT * FROM usage_events")
        names = [column[0] for column in cursor.description]
        events = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    shuffle = random.Random(21)
    shuffle.shuffle(events)
    folder = tmp_path / "usage"
    folder.mkdir()
    warehouse = UsageWarehouse(folder, tmp_path / "usage.duckdb")
    reports = UsageReports(warehouse)
    start = 0
    while start < len(events):
        size = shuffle.choice([1, 7, 60, 500])
        lines = [
            json.dumps(event | {"event_ts": event["event_ts"].isoformat()}) for event in events[start : start + size]
        ]
        (folder / f"events-20261220-{start:05d}.jsonl").write_text("\n".join(lines) + "\n")
        start += size
        if shuffle.random() < 0.5:
            reports.views(view_names())
    kept, every = _kept(reports), _every_view_at_once(warehouse)
    assert {name: len(rows) for name, rows in kept.items()} == {name: len(rows) for name, rows in every.items()}
    assert len(every["channel_reactions"]) > 100 and len(every["stage_budget"]) == 2  # 20 December: two months
    for name in view_names():
        for ours, theirs in zip(kept[name], every[name], strict=True):
            for mine, truth in zip(ours, theirs, strict=True):
                assert mine == (pytest.approx(truth, rel=1e-12) if isinstance(truth, float) else truth), (name, ours)


def test_an_event_s_earliest_stamped_copy_is_the_one_kept_whenever_it_loads(tmp_path):
    """Copies of one render attempt, as the local worker and the job it lost may each write
    it: the worker's ("interrupted", after midnight) loads first, the job's ("failed", before
    midnight) later. BigQuery's view keeps the copy stamped earliest, so the kept table does
    too, and both days are made again; a copy stamped later, or at the same time, changes
    nothing."""
    sink, warehouse, reports = _stack(tmp_path)
    worker = UsageEvent(
        kind="render", render_id="r1", status="interrupted", gpu_seconds=40.0, cost_usd=0.04, event_ts=MIDNIGHT + TICK
    )
    other = UsageEvent(
        kind="render", render_id="r2", status="succeeded", gpu_seconds=10.0, cost_usd=0.01, event_ts=MIDNIGHT
    )
    for event in (worker, other):
        sink.record(event)
    assert [row[:5] for row in reports.view("render_stats").rows] == [(date(2026, 12, 1), 2, 1, 1, 0)]
    job = worker.model_copy(
        update={"status": "failed", "gpu_seconds": 30.0, "cost_usd": 0.03, "event_ts": MIDNIGHT - TICK}
    )
    sink.record(job)
    stats = reports.view("render_stats").rows
    # (day, renders, succeeded, failed, cancelled): r1 is the 30th's now, and gone from the 1st.
    assert [row[:5] for row in stats] == [(date(2026, 11, 30), 1, 0, 1, 0), (date(2026, 12, 1), 1, 1, 0, 0)]
    assert [(row[0], row[7]) for row in stats] == [(date(2026, 11, 30), 30.0), (date(2026, 12, 1), 10.0)]
    sink.record(worker)  # a later copy again
    assert reports.view("render_stats").rows == stats
    assert _kept(reports) == _every_view_at_once(warehouse)
    # One stamped at the same microsecond (which of the two BigQuery keeps is not defined): the kept one stays.
    sink.record(job.model_copy(update={"status": "succeeded"}))
    assert reports.view("render_stats").rows == stats
    assert len(warehouse.events()) == 5  # every delivery is in the table of events as it came


def test_copies_stamped_earlier_replace_more_kept_events_than_one_lookup_takes(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "LOOKUP_MAX", 2)  # three replaced: deleted two, then one
    sink, _, reports = _stack(tmp_path)
    late = [UsageEvent(kind="download", cost_usd=0.5, event_ts=MIDNIGHT + timedelta(hours=n)) for n in range(3)]
    for event in late:
        sink.record(event)
    assert reports.view("daily_cost").rows == [(date(2026, 12, 1), "download", 3, 1.5)]
    for event in late:
        sink.record(event.model_copy(update={"cost_usd": 0.25, "event_ts": MIDNIGHT - timedelta(hours=1)}))
    assert reports.view("daily_cost").rows == [(date(2026, 11, 30), "download", 3, 0.75)]


def test_a_database_that_kept_the_first_loaded_copy_is_made_again_by_the_view_s_rule(tmp_path, monkeypatch, caplog):
    """As the version before kept copies: whichever loaded first stayed, and the table had no
    rule of its own noted. Opened now, the events each once and every report are made again
    from every delivery, the earliest-stamped copy kept."""
    sink, warehouse, reports = _stack(tmp_path)
    kept_already = module._kept_already

    def first_loaded_stays(connection):  # the kept copy counts as stamped before any other
        kept_already(connection)
        connection.execute("UPDATE kept_already SET event_ts = TIMESTAMPTZ '0001-01-01 00:00:00+00'")

    worker = UsageEvent(
        kind="render", render_id="r1", status="interrupted", gpu_seconds=40.0, cost_usd=0.04, event_ts=MIDNIGHT + TICK
    )
    post = _post(1, likes=3, subscribers=100, at=MIDNIGHT + timedelta(hours=2))
    with monkeypatch.context() as before:
        before.setattr(module, "_kept_already", first_loaded_stays)
        for event in (worker, post):
            sink.record(event)
        reports.views(view_names())
        for event in (
            worker.model_copy(update={"status": "failed", "event_ts": MIDNIGHT - TICK}),
            post.model_copy(update={"event_ts": MIDNIGHT - timedelta(hours=1)}),
        ):
            sink.record(event)
        assert [row[:5] for row in reports.view("render_stats").rows] == [(date(2026, 12, 1), 1, 0, 1, 0)]
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.execute(f"DELETE FROM {KEPT.removeprefix('usage.')} WHERE name = 'usage_events_unique'")
    stats = reports.view("render_stats").rows
    assert [row[:5] for row in stats] == [(date(2026, 11, 30), 1, 0, 1, 0)]  # the job's copy, before midnight
    # The post, first seen before midnight now: its channel's row and every channel's.
    assert [row[:2] for row in reports.view("channel_reactions").rows] == [
        (date(2026, 11, 30), "-300"),
        (date(2026, 11, 30), None),
    ]
    assert _kept(reports) == _every_view_at_once(warehouse)
    assert "made again by the view's rule" in caplog.text
    caplog.clear()  # once: the rule is noted, and the next load keeps the table
    sink.record(UsageEvent(kind="download", cost_usd=0.5, event_ts=MIDNIGHT))
    assert reports.view("daily_cost").rows[-1] == (date(2026, 12, 1), "download", 1, 0.5)
    assert "made again" not in caplog.text
