"""Usage events in a local DuckDB file: the embedded twin of Pub/Sub into BigQuery.

DuckDB lets one process at a time open a file for writing, and both the website and
the render subprocesses record events, so each write opens the file, appends and
closes, waiting briefly while another process holds it.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from infra.usage import UsageEvent, UsageSink

TABLE = """
CREATE TABLE IF NOT EXISTS usage_events (
    event_id VARCHAR NOT NULL,
    event_ts TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,
    user_id VARCHAR,
    scene_id VARCHAR,
    render_id VARCHAR,
    model VARCHAR,
    tokens_in BIGINT,
    tokens_out BIGINT,
    frames BIGINT,
    gpu_seconds DOUBLE,
    wall_seconds DOUBLE,
    status VARCHAR,
    cost_usd DOUBLE NOT NULL,
    pricing VARCHAR NOT NULL,
    attributes VARCHAR
)
"""
COLUMNS = list(UsageEvent.model_fields)


class DuckDBUsageSink(UsageSink):
    def __init__(self, path: Path, wait_s: float = 10.0):
        self.path = Path(path)
        self._wait_s = wait_s

    def record(self, event: UsageEvent) -> None:
        row = event.model_dump()
        row["attributes"] = event.model_dump(mode="json")["attributes"]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self._wait_s
        while True:
            try:
                with duckdb.connect(str(self.path)) as connection:
                    connection.execute(TABLE)
                    placeholders = ", ".join("?" for _ in COLUMNS)
                    connection.execute(
                        f"INSERT INTO usage_events ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                        [row[column] for column in COLUMNS],
                    )
                return
            except duckdb.IOException:  # another process holds the file's lock
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def events(self) -> list[dict]:
        """Every stored event, oldest first (for the reports page and tests)."""
        if not self.path.exists():
            return []
        with duckdb.connect(str(self.path), read_only=True) as connection:
            cursor = connection.execute("SELECT * FROM usage_events ORDER BY event_ts")
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
