"""How long the local reports take as the usage events grow: 10k, 100k, 1M and 10M.

Each size is made by DuckDB itself (one INSERT ... SELECT over range(), hashes for the
random parts: seconds for ten million, where a Python loop would take many minutes),
straight into a database file shaped by the BigQuery schema: 30 days, 500 users per
100k events, every kind, 2 % delivered twice. Then each view over the 30 days and the
whole /reports page (all five views over one connection, drawn) are timed, medians of
a few runs, and the page again after 100 new events were written to the usage files (their
load and their day's report rows made again are in that figure; writing them is not). Writing
one usage event, as a dialogue request does, is timed too. The events are generated in no time
order; the first open makes the table of events each once from them, sorted by time and with
its index of ids (unique_table_s), as a running site's loads keep it.
Target: the page in half a second at a million events.

Measured on the 2-core machine (load average 3.4-3.6, medians of 3 runs, before and after
runs interleaved), before / after the kept reports were made again per day (stage_budget) and
per post (channel_reactions), from a table in time order, with new ids looked up in an index:
  1M:  page 0.093, 0.094 s / 0.084, 0.095 s; page after 100 new events 0.381, 0.389 s / 0.202, 0.184 s
  10M: page 0.106 s / 0.086 s; page after 100 new events 1.81 s / 0.226 s

    python tests/benchmarks/bench_reports.py [--sizes 10000,100000,1000000,10000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from frontend_service import create_app
from infra.bigquery import view_names
from infra.bootstrap import bootstrap
from infra.domain.usage import UsageEvent
from infra.settings import Settings
from infra.usage.files import UsageFiles
from infra.usage.reports import UsageReports
from infra.usage.warehouse import UsageWarehouse, create_table_sql
from tests.benchmarks.report import report
from tests.conftest import signed_in

DAYS = 30
ADMIN = "bench-admin@example.com"
USERS = 500
NEW_EVENTS = 100  # written between two looks at the page, in the page_after_new_events_s figure
SIZES = (10_000, 100_000, 1_000_000, 10_000_000)

# One row per number in range(n): kind by weight (dialogue 6, moderation 2, render 3,
# download 1, rating 1, channel reaction 1 of 14), the rest from hashes of the number; 2 % of
# the numbers come twice (at-least-once delivery). A channel reaction is an update of one of
# n / 20 posts over 10 channels, so a post has about three updates.
GENERATE = """
INSERT INTO usage_events
WITH numbers AS (
  SELECT range AS n, hash(range) AS h FROM range(?)
), events AS (
  SELECT
    n,
    h,
    CASE
      WHEN h % 14 < 6 THEN 'dialogue_turn'
      WHEN h % 14 < 8 THEN 'moderation'
      WHEN h % 14 < 11 THEN 'render'
      WHEN h % 14 < 12 THEN 'download'
      WHEN h % 14 < 13 THEN 'rating'
      ELSE 'channel_reaction'
    END AS kind,
    (hash(n + 1) % 1000000) / 1000000.0 AS u,
    (hash(n + 2) % 100) AS v
  FROM numbers
), deliveries AS (
  SELECT * FROM events UNION ALL SELECT * FROM events WHERE v < 2
)
SELECT
  'e' || n AS event_id,
  ?::TIMESTAMPTZ - to_seconds(CAST(u * ? AS BIGINT)) AS event_ts,
  kind,
  'user-' || (hash(n + 3) % ?) AS user_id,
  NULL AS scene_id,
  CASE WHEN kind = 'render' THEN 'r' || n WHEN kind = 'rating' THEN 'r' || (hash(n + 4) % ?) END AS render_id,
  NULL AS model,
  CASE WHEN kind IN ('dialogue_turn', 'moderation') THEN 1500 END AS tokens_in,
  CASE WHEN kind IN ('dialogue_turn', 'moderation') THEN 400 END AS tokens_out,
  NULL AS frames,
  CASE WHEN kind = 'render' THEN 20 + u * 100 END AS gpu_seconds,
  CASE WHEN kind = 'render' THEN 20 + u * 100 END AS wall_seconds,
  CASE
    WHEN kind = 'render' THEN CASE WHEN v < 90 THEN 'succeeded' ELSE 'failed' END
    WHEN kind = 'rating' THEN CASE WHEN v < 50 THEN 'up' WHEN v < 75 THEN 'down' ELSE 'cleared' END
  END AS status,
  CASE
    WHEN kind = 'render' THEN (20 + u * 100) * 0.0003
    WHEN kind IN ('dialogue_turn', 'moderation') THEN 0.00046
    ELSE 0.0
  END AS cost_usd,
  'bench' AS pricing_version,
  NULL AS attributes,
  CASE WHEN kind = 'channel_reaction' THEN 'c' || (hash(n + 5) % 10) END AS channel_id,
  CASE WHEN kind = 'channel_reaction' THEN hash(n + 6) % (? // 200) END AS post_id,
  CASE WHEN kind = 'channel_reaction' THEN v END AS likes,
  CASE WHEN kind = 'channel_reaction' THEN v // 10 END AS dislikes,
  CASE WHEN kind = 'channel_reaction' THEN 1000 + hash(n + 5) % 10 * 100 END AS subscribers,
  CASE WHEN kind = 'render' THEN CASE v % 3 WHEN 0 THEN 15 WHEN 1 THEN 30 ELSE 60 END END AS clip_seconds
FROM deliveries
"""


def make_events(path: Path, count: int, end: datetime) -> int:
    with duckdb.connect(str(path)) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(create_table_sql())
        users = USERS
        connection.execute(GENERATE, [count, end, DAYS * 86400, users, count, count])
        row = connection.execute("SELECT count(*) FROM usage_events").fetchone()
        assert row is not None
        return row[0]


def _median_s(action, runs: int, before=lambda: None) -> float:
    times = []
    for _ in range(runs):
        before()  # not timed
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bench_size(count: int, runs: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), admin_emails=[ADMIN])
        end = datetime.now(UTC)
        began = time.perf_counter()
        rows = make_events(settings.usage_path, count, end)
        results: dict[str, float | int] = {"rows": rows, "generate_s": time.perf_counter() - began}
        warehouse = UsageWarehouse(settings.usage_folder, settings.usage_path)
        began = time.perf_counter()
        with warehouse.connection():  # the events each once, made once from the events written above
            results["unique_table_s"] = time.perf_counter() - began
        reports = UsageReports(warehouse)
        start = (end - timedelta(days=DAYS)).date()
        for name in view_names():
            results[f"view_s.{name}"] = _median_s(lambda name=name: reports.view(name, start, end.date()), runs)
        app = create_app({"TESTING": True, "START_WORKER": False}, bootstrap(settings))
        client = signed_in(app, ADMIN).client  # the reports are the admins'
        page = f"/reports?start={start}&end={end.date()}"
        assert client.get(page).status_code == 200  # a first look: the page's templates compiled
        results["page_s"] = _median_s(lambda: client.get(page), runs)
        # As on a running site: new events since the last look, loaded and their day's rows made again.
        sink = UsageFiles(settings.usage_folder)

        def new_events() -> None:
            for n in range(NEW_EVENTS):
                sink.record(UsageEvent(kind="render", user_id=f"user-{n}", render_id=f"new-{n}", status="succeeded"))

        results["page_after_new_events_s"] = _median_s(lambda: client.get(page), runs, before=new_events)
    return results


def bench_usage_write(count: int = 2000) -> float:
    """Microseconds to record one usage event in the local files, as a dialogue request does."""
    with tempfile.TemporaryDirectory() as folder:
        sink = UsageFiles(Path(folder))
        events = [
            UsageEvent(kind="dialogue_turn", user_id="bench", tokens_in=1500, tokens_out=400, cost_usd=0.00046)
            for _ in range(count)
        ]
        began = time.perf_counter()
        for event in events:
            sink.record(event)
        return (time.perf_counter() - began) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    results: dict[str, float | int | str] = {}
    with open("/proc/loadavg") as handle:
        results["load_average_at_start"] = " ".join(handle.read().split()[:3])
    results["usage_write_us"] = bench_usage_write()
    for size in map(int, arguments.sizes.split(",")):
        for key, value in bench_size(size, arguments.runs).items():
            results[f"{size}.{key}"] = value
    report("reports", results, {"1000000.page_s": "<= 0.5", "page_s": "<= 1.0"})


if __name__ == "__main__":
    main()
