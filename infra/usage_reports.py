"""The usage views on one machine: infra/bigquery/views/*.sql, transpiled from BigQuery
to DuckDB by sqlglot and run over the file the local usage sink writes.

The file is attached read-only as catalog `usage`, so the views' table
`${project}.${dataset}.usage_events` is `usage.main.usage_events`. Dates are UTC days,
as BigQuery's DATE(timestamp) makes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import sqlglot

from infra.bigquery import view_sql
from infra.usage_duckdb import create_table_sql, with_file

CATALOG, SCHEMA = "usage", "main"


@dataclass(frozen=True)
class ViewRows:
    columns: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def duckdb_sql(name: str) -> str:
    return sqlglot.transpile(view_sql(name, CATALOG, SCHEMA), read="bigquery", write="duckdb")[0]


class UsageReports:
    def __init__(self, path: Path, wait_s: float = 10.0):
        self.path, self._wait_s = Path(path), wait_s

    def view(self, name: str, start: date | None = None, end: date | None = None) -> ViewRows:
        """One view's rows, oldest first, for the days (or months) from start to end."""
        sql = duckdb_sql(name)  # KeyError for an unknown view, before any file is opened
        period = "month" if name == "stage_budget" else "day"
        where, parameters = [], []
        if start is not None:
            where.append(f"{period} >= ?")
            parameters.append(start.replace(day=1) if period == "month" else start)
        if end is not None:
            where.append(f"{period} <= ?")
            parameters.append(end)
        query = f"SELECT * FROM ({sql}) AS report"
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY ALL"

        def run() -> ViewRows:
            with duckdb.connect(":memory:") as connection:
                connection.execute("SET TimeZone = 'UTC'")
                self._attach(connection)
                cursor = connection.execute(query, parameters)
                return ViewRows([column[0] for column in cursor.description], cursor.fetchall())

        return with_file(self.path, run, self._wait_s)

    def _attach(self, connection: duckdb.DuckDBPyConnection) -> None:
        if self.path.exists():
            quoted = str(self.path).replace("'", "''")
            connection.execute(f"ATTACH '{quoted}' AS {CATALOG} (READ_ONLY)")
            has_table = connection.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'usage_events'",
                [CATALOG],
            ).fetchone()[0]
            if has_table:
                return
            connection.execute(f"DETACH {CATALOG}")
        # No events yet: the views run over an empty table of the same shape.
        connection.execute(f"ATTACH ':memory:' AS {CATALOG}")
        connection.execute(create_table_sql(f"{CATALOG}.{SCHEMA}.usage_events"))
