"""The usage views on one machine: infra/bigquery/views/*.sql, transpiled from BigQuery
to DuckDB by sqlglot and run over the events loaded from the local usage files.

The database is attached as catalog `usage`, so the views' table
`${project}.${dataset}.usage_events` is `usage.main.usage_events`. Dates are UTC days,
as BigQuery's DATE(timestamp) makes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from infra.bigquery import view_names
from infra.usage.warehouse import UsageWarehouse, period, report_table, view_duckdb_sql

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class ViewRows:
    columns: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def duckdb_sql(name: str) -> str:
    return view_duckdb_sql(name)


class UsageReports:
    def __init__(self, warehouse: UsageWarehouse):
        self._warehouse = warehouse

    def view(self, name: str, start: date | None = None, end: date | None = None) -> ViewRows:
        """One view's rows, oldest first, for the days (or months) from start to end."""
        return self.views([name], start, end)[name]

    def views(self, names: list[str], start: date | None = None, end: date | None = None) -> dict[str, ViewRows]:
        """Several views over one connection (one load of the new events)."""
        for name in names:
            if name not in view_names():  # before any file is opened
                raise KeyError(f"no view {name!r}; the views are {', '.join(view_names())}")
        with self._warehouse.connection() as connection:
            return {name: _run(connection, name, start, end) for name in names}


def _run(connection: duckdb.DuckDBPyConnection, name: str, start: date | None, end: date | None) -> ViewRows:
    key = period(name)
    where, parameters = [], []
    if start is not None:
        where.append(f"{key} >= ?")
        parameters.append(start.replace(day=1) if key == "month" else start)
    if end is not None:
        where.append(f"{key} <= ?")
        parameters.append(end)
    query = f"SELECT * FROM {report_table(name)}"  # the view's rows, kept as events load (infra.usage.warehouse)
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY ALL"
    cursor = connection.execute(query, parameters)
    return ViewRows([column[0] for column in cursor.description], cursor.fetchall())
