"""How long the local reports take over a busy installation's usage events.

Writes 200,000 events (30 days, 500 users, every kind, 2 % delivered twice) straight
into a DuckDB file shaped by the BigQuery schema, then times each view over the 30
days and the whole /reports page. Target: the page in under a second, so the
embedded reports stay usable long before anyone needs BigQuery.
"""

from __future__ import annotations

import csv
import random
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
from infra.settings import Settings
from infra.usage.reports import UsageReports
from infra.usage.warehouse import COLUMNS, UsageWarehouse, create_table_sql
from tests.benchmarks.report import report

EVENTS, DAYS, USERS = 200_000, 30, 500
KINDS = ["dialogue_turn"] * 6 + ["moderation"] * 2 + ["render"] * 3 + ["download", "rating"]


def events(end: datetime):
    rng = random.Random(7)
    for index in range(EVENTS):
        kind = rng.choice(KINDS)
        row = dict.fromkeys(COLUMNS)
        row |= {
            "event_id": f"e{index}",
            "event_ts": end - timedelta(seconds=rng.uniform(0, DAYS * 86400)),
            "kind": kind,
            "user_id": f"user-{rng.randrange(USERS)}",
            "cost_usd": 0.0,
            "pricing_version": "bench",
        }
        if kind == "render":
            wall = rng.uniform(20, 120)
            row |= {"render_id": f"r{index}", "status": rng.choice(["succeeded"] * 9 + ["failed"])}
            row |= {"wall_seconds": wall, "gpu_seconds": wall, "cost_usd": wall * 0.0003}
        elif kind == "rating":
            row |= {"render_id": f"r{rng.randrange(EVENTS)}", "status": rng.choice(["up", "up", "down", "cleared"])}
        elif kind in ("dialogue_turn", "moderation"):
            row |= {"tokens_in": 1500, "tokens_out": 400, "cost_usd": 0.00046}
        yield row
        if rng.random() < 0.02:
            yield row  # at-least-once delivery


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        end = datetime.now(UTC)
        rows = Path(folder) / "events.csv"
        with rows.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(COLUMNS)
            count = 0
            for row in events(end):
                writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
                count += 1
        with duckdb.connect(str(settings.usage_path)) as connection:  # COPY: executemany takes minutes
            connection.execute(create_table_sql())
            connection.execute(f"COPY usage_events FROM '{rows}' (HEADER, NULLSTR '')")
        reports = UsageReports(UsageWarehouse(settings.usage_folder, settings.usage_path))
        start = (end - timedelta(days=DAYS)).date()
        results: dict[str, float | int] = {"events": count}
        for name in view_names():
            times = []
            for _ in range(5):
                began = time.perf_counter()
                reports.view(name, start, end.date())
                times.append(time.perf_counter() - began)
            results[f"view_s.{name}"] = statistics.median(times)
        client = create_app({"TESTING": True, "START_WORKER": False}, bootstrap(settings)).test_client()
        times = []
        for _ in range(5):
            began = time.perf_counter()
            assert client.get(f"/reports?start={start}&end={end.date()}").status_code == 200
            times.append(time.perf_counter() - began)
        results["page_s"] = statistics.median(times)
    report("reports", results, {"page_s": "<= 1.0"})


if __name__ == "__main__":
    main()
