"""Usage events in a local DuckDB file: the embedded twin of Pub/Sub into BigQuery.

The table is made from the BigQuery schema (infra/bigquery), so the views read the
same columns on both. DuckDB lets one process at a time open a file for writing, and
both the website and the render subprocesses record events, so each write opens the
file, appends and closes, waiting briefly while another process holds it; readers wait
the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from infra.bigquery import TABLE, table_schema
from infra.usage import UsageEvent, UsageSink

DUCKDB_TYPES = {"STRING": "VARCHAR", "TIMESTAMP": "TIMESTAMPTZ", "INT64": "BIGINT", "FLOAT64": "DOUBLE"}
T = TypeVar("T")


def create_table_sql(name: str = TABLE) -> str:
    columns = ",\n    ".join(
        f"{field['name']} {DUCKDB_TYPES[field['type']]}{' NOT NULL' if field['mode'] == 'REQUIRED' else ''}"
        for field in table_schema()
    )
    return f"CREATE TABLE IF NOT EXISTS {name} (\n    {columns}\n)"


COLUMNS = [field["name"] for field in table_schema()]


def with_file(path: Path, work: Callable[[], T], wait_s: float) -> T:
    """Runs `work`, which opens the file, again while another process holds its lock."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return work()
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class DuckDBUsageSink(UsageSink):
    def __init__(self, path: Path, wait_s: float = 10.0):
        self.path = Path(path)
        self._wait_s = wait_s

    def record(self, event: UsageEvent) -> None:
        row = event.model_dump(mode="json") | {"event_ts": event.event_ts}
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def append() -> None:
            with duckdb.connect(str(self.path)) as connection:
                connection.execute(create_table_sql())
                connection.execute(
                    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
                    [row[column] for column in COLUMNS],
                )

        with_file(self.path, append, self._wait_s)

    def events(self) -> list[dict]:
        """Every stored event, oldest first (for tests and a look by hand)."""
        if not self.path.exists():
            return []

        def read() -> list[dict]:
            with duckdb.connect(str(self.path), read_only=True) as connection:
                cursor = connection.execute(f"SELECT * FROM {TABLE} ORDER BY event_ts")
                names = [column[0] for column in cursor.description]
                return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

        return with_file(self.path, read, self._wait_s)
