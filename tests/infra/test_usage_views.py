"""The usage table's one definition (BigQuery schema, Avro schema, pydantic model, the
sinks) and the views over it, run on DuckDB the way the local reports run them."""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlglot

from infra.bigquery import UNIQUE, avro_schema, table_schema, unique_sql, view_names, view_sql
from infra.domain import pricing
from infra.domain.usage import UsageEvent
from infra.usage.files import UsageFiles
from infra.usage.pubsub import decode, encode
from infra.usage.reports import UsageReports, duckdb_sql
from infra.usage.warehouse import UsageWarehouse, create_table_sql

AVRO_TYPES = {"STRING": "string", "INT64": "long", "FLOAT64": "double"}
PYTHON_TYPES = {"STRING": str, "TIMESTAMP": datetime, "INT64": int, "FLOAT64": float, "DATE": date}


def _python_type(annotation) -> tuple[type, bool]:
    """(the type, whether None is allowed) of a pydantic field's annotation."""
    arguments = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        [inner] = [a for a in arguments if a is not type(None)]
        return inner, True
    if typing.get_origin(annotation) is typing.Literal:
        return type(arguments[0]), False
    if typing.get_origin(annotation) is dict:
        return str, False  # attributes travel as a JSON string
    return annotation, False


def test_the_table_the_topic_schema_and_the_model_agree_field_by_field():
    table, avro = table_schema(), avro_schema()["fields"]
    model = UsageEvent.model_fields
    assert [f["name"] for f in table] == [f["name"] for f in avro] == list(model)
    for column, record in zip(table, avro, strict=True):
        name, required = column["name"], column["mode"] == "REQUIRED"
        expected: str | dict[str, str] = (
            {"type": "long", "logicalType": "timestamp-micros"}
            if column["type"] == "TIMESTAMP"
            else AVRO_TYPES[column["type"]]
        )
        assert record["type"] == (expected if required else ["null", expected]), name
        python_type, nullable = _python_type(model[name].annotation)
        assert python_type is PYTHON_TYPES[column["type"]], name
        assert nullable == (not required) or name == "attributes", name
        assert column["description"], f"{name} needs a description for the BigQuery console"


def test_the_issue_s_minimum_columns_are_there():
    columns = {f["name"]: (f["type"], f["mode"]) for f in table_schema()}
    assert columns["event_id"] == columns["kind"] == ("STRING", "REQUIRED")
    assert columns["event_ts"] == ("TIMESTAMP", "REQUIRED") and columns["cost_usd"] == ("FLOAT64", "REQUIRED")
    for name in ("tokens_in", "tokens_out", "frames"):
        assert columns[name][0] == "INT64"
    assert set(typing.get_args(UsageEvent.model_fields["kind"].annotation)) == {
        "dialogue_turn",
        "moderation",
        "render",
        "download",
        "rating",
        "channel_reaction",
    }


def test_what_the_publisher_sends_decodes_to_the_event():
    event = UsageEvent(kind="dialogue_turn", user_id="u", model="gpt-4o-mini", tokens_in=10, tokens_out=3)
    event.attributes["language"] = "ru"
    assert decode(encode(event)) == event.model_dump(mode="json") | {"event_ts": event.event_ts}


def test_the_local_table_has_the_schema_s_columns(tmp_path):
    UsageFiles(tmp_path / "usage").record(UsageEvent(kind="download"))
    [row] = UsageWarehouse(tmp_path / "usage", tmp_path / "usage.duckdb").events()
    assert list(row) == [f["name"] for f in table_schema()]
    assert "event_id VARCHAR NOT NULL" in create_table_sql() and "user_id VARCHAR," in create_table_sql()


@pytest.mark.parametrize("name", view_names())
def test_every_view_is_bigquery_sql_over_the_events_each_once(name):
    sql = view_sql(name, "my-project", "usage")
    parsed = sqlglot.parse_one(sql, read="bigquery")  # raises on anything BigQuery would not parse
    steps = {cte.alias for cte in parsed.find_all(sqlglot.exp.CTE)}
    tables = {(t.catalog, t.db, t.name) for t in parsed.find_all(sqlglot.exp.Table) if t.name not in steps}
    assert tables == {("my-project", "usage", UNIQUE)}  # never the table itself: the dedup is written once
    assert duckdb_sql(name)  # and transpiles


def test_the_events_each_once_view_keeps_one_copy_of_each_event_id():
    parsed = sqlglot.parse_one(unique_sql("my-project", "usage"), read="bigquery")
    tables = {(t.catalog, t.db, t.name) for t in parsed.find_all(sqlglot.exp.Table)}
    assert tables == {("my-project", "usage", "usage_events")}
    [window] = list(parsed.find_all(sqlglot.exp.Window))
    assert [column.name for column in window.args["partition_by"]] == ["event_id"]


def test_the_events_each_once_view_keeps_the_first_copy_of_each_event():
    """BigQuery's dedup view (the local warehouse keeps a table instead), run on DuckDB: a
    delivery twice, the second copy stamped later, and an event delivered once."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("CREATE TABLE usage_events (event_id VARCHAR, event_ts TIMESTAMP, note VARCHAR)")
    connection.execute(
        "INSERT INTO usage_events VALUES ('e1', '2026-11-01 10:05', 'second copy'), "
        "('e1', '2026-11-01 10:00', 'first copy'), ('e2', '2026-11-01 11:00', 'once')"
    )
    sql = sqlglot.transpile(unique_sql("memory", "main"), read="bigquery", write="duckdb")[0]
    assert sorted(connection.execute(sql).fetchall()) == [
        ("e1", datetime(2026, 11, 1, 10, 0), "first copy"),
        ("e2", datetime(2026, 11, 1, 11, 0), "once"),
    ]


def test_the_views_are_the_issue_s_views():
    assert {
        "daily_cost",
        "render_stats",
        "user_daily",
        "stage_budget",
        "reactions",
        "channel_reactions",
        "clip_lengths",
    } <= set(view_names())


# -- the views over generated events ---------------------------------------------------

DAY1, DAY2, DECEMBER = date(2026, 11, 1), date(2026, 11, 2), date(2026, 12, 1)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def render(render_id, user, status, wall, cost, when):
    return UsageEvent(
        kind="render",
        user_id=user,
        render_id=render_id,
        status=status,
        wall_seconds=wall,
        gpu_seconds=wall,
        frames=120,
        cost_usd=cost,
        event_ts=when,
    )


@pytest.fixture
def reports(tmp_path):
    """Several users, days and kinds; failures and retries; duplicated deliveries; a render
    request delivered twice (both jobs ran); an event without a user; a late event from
    another time zone. Loaded in three pieces, as a running site loads them: a copy of an
    event comes in a later load than the first (turn, succeeded), and the last load adds to
    days that already have rows (DAY1, DAY2)."""
    sink = UsageFiles(tmp_path / "usage")
    turn = UsageEvent(kind="dialogue_turn", user_id="a", model="gpt-4o-mini", cost_usd=0.001, event_ts=at(DAY1, 9))
    succeeded = render("r1", "a", "succeeded", 30.0, 0.08, at(DAY1, 11))
    down = UsageEvent(kind="rating", user_id="e", render_id="r1", status="down", event_ts=at(DAY2, 16))
    events = [
        turn,
        turn,  # delivered twice
        UsageEvent(kind="dialogue_turn", user_id="a", cost_usd=0.001, event_ts=at(DAY1, 10)),
        render("r1", "a", "failed", 20.0, 0.05, at(DAY1, 10)),  # the first attempt failed
        succeeded,
        succeeded,  # the retry's event, delivered twice
        render("r2", "b", "succeeded", 10.0, 0.02, at(DAY1, 13)),
        render("r3", "b", "failed", 5.0, 0.01, at(DAY1, 14)),  # failed on its last attempt
        UsageEvent(kind="download", user_id="a", render_id="r1", cost_usd=0.0005, event_ts=at(DAY1, 15)),
        render("r4", "b", "succeeded", 40.0, 0.1, at(DAY2)),
        # r4's request was delivered twice (Pub/Sub delivers at least once) and both jobs ran:
        # two events of their own, one clip.
        render("r4", "b", "succeeded", 44.0, 0.11, at(DAY2, 14)),
        render("r6", "b", "cancelled", 4.0, 0.0, at(DAY2, 13)),  # its owner cancelled it while it ran
        render("r6", "b", "cancelled", 2.0, 0.0, at(DAY2, 13)),  # ... and its twin job, started twice too
        *[
            UsageEvent(kind="rating", user_id=user, render_id="r1", status=vote, event_ts=at(DAY2, 16))
            for user, vote in (("c", "up"), ("d", "up"), ("c", "cleared"))
        ],
        down,
        down,  # a vote delivered twice
        UsageEvent(kind="rating", user_id="f", render_id="r2", status="up", event_ts=at(DAY2, 17)),
        # A download by a visitor with no cookie: an event without a user.
        UsageEvent(kind="download", render_id="r1", cost_usd=0.0005, event_ts=at(DAY2, 18)),
        render("r5", "a", "succeeded", 50.0, 0.12, at(DECEMBER)),
        # Arrives last, made at 00:30 in Moscow on DAY2: 21:30 UTC on DAY1.
        UsageEvent(
            kind="dialogue_turn",
            user_id="c",
            cost_usd=0.002,
            event_ts=datetime(2026, 11, 2, 0, 30, tzinfo=timezone(timedelta(hours=3))),
        ),
    ]
    reports = UsageReports(UsageWarehouse(sink.folder, tmp_path / "usage.duckdb"))
    for piece in (events[:1], events[1:5], events[5:]):
        for event in piece:
            sink.record(event)
        reports.views(view_names())  # a load, as a look at the page makes
    return reports


def test_daily_cost(reports):
    rows = {(r["day"], r["kind"]): r for r in reports.view("daily_cost").dicts()}
    assert set(rows) == {
        (DAY1, "dialogue_turn"),
        (DAY1, "render"),
        (DAY1, "download"),
        (DAY2, "render"),
        (DAY2, "rating"),
        (DAY2, "download"),
        (DECEMBER, "render"),
    }
    assert rows[DAY1, "dialogue_turn"]["events"] == 3  # two of a's (one twice) and c's late one
    assert rows[DAY1, "dialogue_turn"]["cost_usd"] == pytest.approx(0.004)
    assert (rows[DAY1, "render"]["events"], rows[DAY1, "render"]["cost_usd"]) == (4, pytest.approx(0.16))
    assert (rows[DAY2, "rating"]["events"], rows[DAY2, "rating"]["cost_usd"]) == (5, 0.0)
    # r4 twice, r6 twice: every attempt is an event of its own
    assert (rows[DAY2, "render"]["events"], rows[DAY2, "render"]["cost_usd"]) == (4, pytest.approx(0.21))


def test_render_stats(reports):
    day1, day2, december = reports.view("render_stats").dicts()
    assert day1["day"] == DAY1
    assert (day1["renders"], day1["succeeded"], day1["failed"]) == (3, 2, 1)
    assert day1["p50_wall_s"] == pytest.approx(20.0)  # succeeded attempts took 30 s and 10 s
    assert day1["p95_wall_s"] == pytest.approx(29.0)  # interpolated, as BigQuery's PERCENTILE_CONT does
    assert day1["gpu_seconds"] == pytest.approx(65.0) and day1["cost_usd"] == pytest.approx(0.16)
    assert day1["cost_per_clip_usd"] == pytest.approx(0.08)  # failed attempts are paid for by the clips
    assert (day1["cancelled"], day2["cancelled"]) == (0, 1)
    # r4 succeeded twice and r6 was cancelled twice: each is one render all the same.
    assert (day2["renders"], day2["succeeded"], day2["failed"], day2["cancelled"]) == (2, 1, 0, 1)
    assert day2["p50_wall_s"] == pytest.approx(42.0)  # r4's two succeeded attempts: 40 s and 44 s
    assert day2["p95_wall_s"] == pytest.approx(43.8)  # 40 + 0.95 x (44 - 40)
    assert day2["gpu_seconds"] == pytest.approx(90.0)  # 40 + 44 + 4 + 2
    assert day2["cost_usd"] == day2["cost_per_clip_usd"] == pytest.approx(0.21)  # both of r4's jobs, one clip
    assert (december["renders"], december["succeeded"], december["failed"], december["cancelled"]) == (1, 1, 0, 0)
    assert december["p50_wall_s"] == december["p95_wall_s"] == pytest.approx(50.0)
    assert december["cost_per_clip_usd"] == pytest.approx(0.12)
    # Every render here is from before clips had lengths: 15 s each. DAY1: r1 and r2 succeeded,
    # 30 s for 0.16 USD; DAY2: r4, 15 s for 0.1 USD (r6 was cancelled: no animation).
    assert (day1["animation_seconds"], day2["animation_seconds"], december["animation_seconds"]) == (30, 15, 15)
    assert day1["cost_per_animation_second_usd"] == pytest.approx(0.16 / 30)
    assert day2["cost_per_animation_second_usd"] == pytest.approx(0.21 / 15)


@pytest.fixture
def longer_clips(tmp_path):
    """Renders of 15, 30 and 60 seconds on one day, a retry and a failure among them, each
    delivered twice; and a 30-second clip on the next day."""
    sink = UsageFiles(tmp_path / "usage")

    def attempt(render_id, status, cost, seconds, day=DAY1):
        event = render(render_id, "a", status, 10.0, cost, at(day)).model_copy(
            update={"clip_seconds": seconds, "frames": seconds * 8}
        )
        return [event, event]

    for events in (
        attempt("short", "succeeded", 0.03, 15),
        attempt("half", "failed", 0.02, 30),
        attempt("half", "succeeded", 0.04, 30),
        attempt("long", "succeeded", 0.09, 60),
        attempt("lost", "failed", 0.05, 60),  # failed on its last attempt: paid for, no animation
        attempt("next", "succeeded", 0.06, 30, DAY2),
    ):
        for event in events:
            sink.record(event)
    return UsageReports(UsageWarehouse(sink.folder, tmp_path / "usage.duckdb"))


def test_clip_lengths(longer_clips):
    rows = {(r["day"], r["clip_seconds"]): r for r in longer_clips.view("clip_lengths").dicts()}
    assert set(rows) == {(DAY1, 15), (DAY1, 30), (DAY1, 60), (DAY2, 30)}
    short, half, long, later = rows[DAY1, 15], rows[DAY1, 30], rows[DAY1, 60], rows[DAY2, 30]
    assert (short["renders"], short["succeeded"], short["animation_seconds"]) == (1, 1, 15)
    assert short["cost_per_animation_second_usd"] == pytest.approx(0.002)  # 0.03 / 15
    assert (half["renders"], half["succeeded"], half["animation_seconds"]) == (1, 1, 30)
    assert half["cost_usd"] == pytest.approx(0.06) and half["cost_per_clip_usd"] == pytest.approx(0.06)
    assert half["cost_per_animation_second_usd"] == pytest.approx(0.002)  # (0.02 + 0.04) / 30
    assert (long["renders"], long["succeeded"], long["animation_seconds"]) == (2, 1, 60)
    assert long["cost_per_animation_second_usd"] == pytest.approx(0.0023333333333)  # (0.09 + 0.05) / 60
    assert later["cost_per_animation_second_usd"] == pytest.approx(0.002)  # 0.06 / 30


def test_clip_lengths_count_a_clip_once_and_an_event_from_before_lengths_as_fifteen_seconds(tmp_path):
    sink = UsageFiles(tmp_path / "usage")
    twice = render("twice", "a", "succeeded", 10.0, 0.04, at(DAY1)).model_copy(update={"clip_seconds": 30})
    for event in (
        twice,
        twice.model_copy(update={"event_id": "the-second-job"}),  # delivered twice, both jobs ran
        render("old", "a", "succeeded", 10.0, 0.03, at(DAY1)),  # no clip_seconds: from before lengths
        UsageEvent(kind="download", user_id="a", cost_usd=0.01, event_ts=at(DAY1)),  # not a render
    ):
        sink.record(event)
    reports = UsageReports(UsageWarehouse(sink.folder, tmp_path / "usage.duckdb"))
    rows = {(r["day"], r["clip_seconds"]): r for r in reports.view("clip_lengths").dicts()}
    assert set(rows) == {(DAY1, 15), (DAY1, 30)}
    half, old = rows[DAY1, 30], rows[DAY1, 15]
    assert (half["renders"], half["succeeded"], half["animation_seconds"]) == (1, 1, 30)
    assert half["cost_usd"] == pytest.approx(0.08) and half["cost_per_clip_usd"] == pytest.approx(0.08)
    assert half["cost_per_animation_second_usd"] == pytest.approx(0.0026666666667)  # 0.08 / 30
    assert (old["renders"], old["succeeded"], old["animation_seconds"]) == (1, 1, 15)
    assert old["cost_usd"] == pytest.approx(0.03) and old["cost_per_clip_usd"] == pytest.approx(0.03)


def test_render_stats_counts_seconds_of_animation(longer_clips):
    day1, day2 = longer_clips.view("render_stats").dicts()
    # DAY1: 15 + 30 + 60 s succeeded for 0.03 + 0.06 + 0.09 + 0.05 = 0.23 USD.
    assert (day1["animation_seconds"], day1["cost_usd"]) == (105, pytest.approx(0.23))
    assert day1["cost_per_animation_second_usd"] == pytest.approx(0.0021904761904)  # 0.23 / 105
    assert (day2["animation_seconds"], day2["cost_per_animation_second_usd"]) == (30, pytest.approx(0.002))


def test_user_daily(reports):
    rows = {(r["day"], r["user_id"]): r for r in reports.view("user_daily").dicts()}
    a = rows[DAY1, "a"]
    assert (a["renders"], a["dialogue_turns"], a["cost_usd"]) == (1, 2, pytest.approx(0.1325))
    b = rows[DAY1, "b"]
    assert (b["renders"], b["dialogue_turns"], b["cost_usd"]) == (2, 0, pytest.approx(0.03))
    assert rows[DAY1, "c"]["dialogue_turns"] == 1
    assert rows[DAY2, "c"]["cost_usd"] == 0.0  # votes cost nothing
    assert rows[DAY2, "b"]["renders"] == 2  # r4 and r6, each started twice
    # The download without a user is nobody's row.
    assert {user for day, user in rows if day == DAY2} == {"b", "c", "d", "e", "f"}


def test_stage_budget(reports):
    november, december = reports.view("stage_budget").dicts()
    assert (november["month"], november["events"], november["cost_usd"]) == (
        date(2026, 11, 1),
        18,
        pytest.approx(0.375),
    )
    assert (december["month"], december["events"]) == (DECEMBER, 1)
    for stage, (low, high) in pricing.STAGE_MONTHLY_USD.items():  # the seed's estimates, in one place
        assert (november[f"{stage}_low_usd"], november[f"{stage}_high_usd"]) == (low, high)


def test_reactions(reports):
    [day] = reports.view("reactions").dicts()
    # r1: c and d up, c cleared, e down (delivered twice); r2: f up.
    assert (day["day"], day["clips"], day["up"], day["down"], day["cleared"]) == (DAY2, 2, 3, 1, 1)
    assert day["average_reaction"] == pytest.approx(0.5)  # (3 - 1) / 4


def test_a_period_keeps_its_days_and_months(reports):
    assert {r["day"] for r in reports.view("daily_cost", DAY2, DAY2).dicts()} == {DAY2}
    assert [r["month"] for r in reports.view("stage_budget", date(2026, 11, 15), date(2026, 11, 30)).dicts()] == [
        date(2026, 11, 1)
    ]


COLUMN_TYPES = {
    "daily_cost": {"day": "DATE", "kind": "STRING", "events": "INT64", "cost_usd": "FLOAT64"},
    "render_stats": {
        "day": "DATE",
        "renders": "INT64",
        "succeeded": "INT64",
        "failed": "INT64",
        "cancelled": "INT64",
        "p50_wall_s": "FLOAT64",
        "p95_wall_s": "FLOAT64",
        "gpu_seconds": "FLOAT64",
        "cost_usd": "FLOAT64",
        "cost_per_clip_usd": "FLOAT64",
        "animation_seconds": "INT64",
        "cost_per_animation_second_usd": "FLOAT64",
    },
    "clip_lengths": {
        "day": "DATE",
        "clip_seconds": "INT64",
        "renders": "INT64",
        "succeeded": "INT64",
        "animation_seconds": "INT64",
        "cost_usd": "FLOAT64",
        "cost_per_clip_usd": "FLOAT64",
        "cost_per_animation_second_usd": "FLOAT64",
    },
    "user_daily": {
        "day": "DATE",
        "user_id": "STRING",
        "renders": "INT64",
        "dialogue_turns": "INT64",
        "cost_usd": "FLOAT64",
    },
}


@pytest.mark.parametrize("name", sorted(COLUMN_TYPES))
def test_views_have_the_issue_s_columns_and_types(reports, name):
    rows = reports.view(name)
    assert rows.columns == list(COLUMN_TYPES[name])
    for row in rows.dicts():
        for column, kind in COLUMN_TYPES[name].items():
            assert row[column] is None or type(row[column]) is PYTHON_TYPES[kind], (column, row[column])


def test_no_events_yet_means_empty_views(tmp_path):
    reports = UsageReports(UsageWarehouse(tmp_path / "no-usage-yet", tmp_path / "usage.duckdb"))
    for name in view_names():
        assert reports.view(name).rows == []
