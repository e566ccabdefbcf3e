"""The usage files (infra.usage.files) loaded into DuckDB, where the reports query them.

DuckDB lets one process write a database file at a time, so only this class writes
it, under a file lock, and only to load what the usage files gained since the last
load: a table remembers how far into each file it has read, in the same transaction as
the rows. Events come from the files, never straight from a request, so a report can
never slow or fail one. The database is derived data: if it ever cannot be opened, it
is set aside and loaded again from the files, which are the source of truth.

The events each once (infra/bigquery/usage_events_unique.sql, a view in BigQuery) are a
table here, kept as events are loaded: a new event goes in unless its id is there
already. Every report reads it, so the copies are sorted out once per event rather than
once per view per page (at a million events that was most of the page's time). The view
keeps each event's earliest-stamped copy, and so does the table: a copy loaded later but
stamped earlier than the kept one takes its place, and both copies' days are made again.
(Copies can differ: the local worker and a job it lost may each record the same render
attempt, at different times.)

Each report (infra/bigquery/views/*.sql) is kept as a table of its rows too, so a page
reads thousands of rows, not millions (at a million events the views took about a
second). A load notes the UTC days its new events fall on, in the same transaction as
the events; at the end of the load the rows of those days are made again by the view
itself, unchanged, run over only those days' events. The events each once are kept in
time order (made sorted, appended as they come), so a day's events are a few row groups
that the scan's min/max skip to, not a filter over every event.

A day's rows depend on that day's events alone in every view but two:
- stage_budget is per month. Its view is run over each stale day alone, its rows kept per
  day (report_stage_budget_days), and a month's row is its days' rows added up: the view
  is made of sums, counts and constants (checked when its SQL is read), so adding days up
  is the view over the month, up to the order a float sum is added in.
- channel_reactions counts a post on the day it was first seen, with its latest counts,
  which may arrive any day later. Each post's first-seen time is kept (report_channel_posts,
  with the events); a load notes the first-seen days of the posts its new events touch,
  before and after (a late update stamped earlier moves its post), and those days are
  made again by the view over the events of every post first seen on them.
A table whose view's SQL changed is made again from every event.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from infra.bigquery import TABLE, UNIQUE, table_schema, unique_sql, view_names, view_sql
from infra.usage.files import PATTERN

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

DUCKDB_TYPES = {"STRING": "VARCHAR", "TIMESTAMP": "TIMESTAMPTZ", "INT64": "BIGINT", "FLOAT64": "DOUBLE"}
COLUMNS = [field["name"] for field in table_schema()]
#: Where the database is attached in each connection: the views' table is usage.main.usage_events.
CATALOG, SCHEMA = "usage", "main"
LOADED = f"{CATALOG}.{SCHEMA}.loaded_files"
EVENTS, UNIQUE_EVENTS = f"{CATALOG}.{SCHEMA}.{TABLE}", f"{CATALOG}.{SCHEMA}.{UNIQUE}"
#: The days whose reports' rows are out of date, and the SQL each report's table was made with.
STALE_DAYS, KEPT = f"{CATALOG}.{SCHEMA}.report_stale_days", f"{CATALOG}.{SCHEMA}.report_tables"
#: Where a view reads its events when its table is made (all of them, or the stale days'):
#: a temporary view of that name, usage_events_unique, in this connection alone.
READ_CATALOG, READ_SCHEMA = "temp", "main"
#: Reports whose rows are per month, not per day: kept per day too, and added up (see above).
MONTHLY = {"stage_budget"}
#: The report whose day is the day its post was first seen (see above).
POSTS_REPORT = "channel_reactions"
#: Each channel post's first-seen time, and the days whose posts' rows are out of date.
CHANNEL_POSTS = f"{CATALOG}.{SCHEMA}.report_channel_posts"
STALE_POST_DAYS = f"{CATALOG}.{SCHEMA}.report_stale_post_days"
LOAD_CHUNK_BYTES = 32 * 1024 * 1024
#: Up to this many new events, whether each is kept already is looked up in the index of kept
#: ids (about 40 µs an id at ten million events); past it, one scan of every kept id (0.15 to
#: 0.3 s at ten million, a twentieth of that at one million) is cheaper.
LOOKUP_MAX = 1000


class UsageReportsBusy(RuntimeError):
    """Another process has held the usage database for too long."""


def create_table_sql(name: str = TABLE) -> str:
    columns = ",\n    ".join(
        f"{field['name']} {DUCKDB_TYPES[field['type']]}{' NOT NULL' if field['mode'] == 'REQUIRED' else ''}"
        for field in table_schema()
    )
    return f"CREATE TABLE IF NOT EXISTS {name} (\n    {columns}\n)"


def _add_columns(connection: duckdb.DuckDBPyConnection, table: str) -> None:
    """Columns the table gained since a database was made (all NULLABLE, as BigQuery adds them):
    one look at the catalog, not an ALTER per column on every open."""
    catalog, schema, name = table.split(".")
    present = {
        column
        for (column,) in connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
            [catalog, schema, name],
        ).fetchall()
    }
    for field in table_schema():
        if field["name"] not in present:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {field['name']} {DUCKDB_TYPES[field['type']]}")


def period(name: str) -> str:
    """The column a report's rows are keyed on: month or day."""
    return "month" if name in MONTHLY else "day"


def report_table(name: str) -> str:
    return f"{CATALOG}.{SCHEMA}.report_{name}"


def days_table(name: str) -> str:
    """A monthly report's rows per day: the view over each day's events alone."""
    return f"{CATALOG}.{SCHEMA}.report_{name}_days"


@cache
def month_from_days_sql(name: str) -> str:
    """A monthly report's rows from its rows per day: each column of the view added up
    (a COUNT or a SUM), kept (a constant) or grouped by (the month). A view with any other
    column (a mean, a distinct count) cannot be added up, so it is refused here, loudly."""
    import sqlglot  # only when a report is asked for
    from sqlglot import exp

    select = sqlglot.parse_one(view_sql(name, CATALOG, SCHEMA), read="bigquery")
    if not isinstance(select, exp.Select):
        raise ValueError(f"the monthly view {name} is not one SELECT")
    keys = {key.name for key in select.args["group"].expressions}
    columns = []
    for projection in select.expressions:
        value, alias = projection.unalias(), projection.alias_or_name
        if alias in keys:
            columns.append(alias)
        elif isinstance(value, exp.Count | exp.Sum) and not value.find(exp.Distinct):
            columns.append(f"SUM({alias}) AS {alias}")
        elif not value.find(exp.Column, exp.AggFunc):
            columns.append(f"ANY_VALUE({alias}) AS {alias}")
        else:
            raise ValueError(f"{name}.{alias} cannot be added up from days: {value.sql('bigquery')}")
    return f"SELECT {', '.join(columns)} FROM {days_table(name)} GROUP BY {', '.join(sorted(keys))}"


@cache
def view_duckdb_sql(name: str, catalog: str = CATALOG, schema: str = SCHEMA) -> str:
    """A report's BigQuery view in DuckDB's SQL, reading catalog.schema.usage_events_unique."""
    import sqlglot  # only when a report is asked for

    return sqlglot.transpile(view_sql(name, catalog, schema), read="bigquery", write="duckdb")[0]


@cache
def unique_duckdb_sql() -> str:
    """The one-copy-per-event view (infra/bigquery/usage_events_unique.sql), in DuckDB's SQL."""
    import sqlglot  # here, not at the top: only the reports need it (a fifth of a second to import)

    return sqlglot.transpile(unique_sql(CATALOG, SCHEMA), read="bigquery", write="duckdb")[0]


def _json_columns() -> str:
    """read_json's column list: every field read as text first, then cast, so that a
    timestamp's time zone and an absent field are read the same way in every file."""
    return "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in COLUMNS) + "}"


def _select_casts() -> str:
    types = {field["name"]: DUCKDB_TYPES[field["type"]] for field in table_schema()}
    return ", ".join(f"CAST({name} AS {types[name]}) AS {name}" for name in COLUMNS)


class UsageWarehouse:
    def __init__(self, folder: Path, path: Path, wait_s: float = 30.0):
        self.folder, self.path, self._wait_s = Path(folder), Path(path), wait_s

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the loaded events, up to date with the files; one process at a time."""
        with self._exclusive():
            connection = self._open()
            try:
                self._load(connection)
                yield connection
            finally:
                connection.close()

    def events(self) -> list[dict]:
        """Every event, oldest first (for tests and a look by hand)."""
        with self.connection() as connection:
            cursor = connection.execute(f"SELECT * FROM {CATALOG}.{SCHEMA}.{TABLE} ORDER BY event_ts")
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "w") as handle:
            deadline = time.monotonic() + self._wait_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise UsageReportsBusy(f"the usage database was busy for {self._wait_s:.0f} s") from None
                    time.sleep(0.05)
            yield  # closing the file releases the lock

    def _open(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        try:
            return self._attach()
        except duckdb.Error as error:
            broken = self.path.with_name(f"{self.path.name}.broken-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            log.error(
                "the usage database could not be opened (%s); set aside as %s and loaded again", error, broken.name
            )
            self.path.rename(broken)
            wal = self.path.with_name(self.path.name + ".wal")
            if wal.exists():
                wal.rename(broken.with_name(broken.name + ".wal"))
            return self._attach()

    def _attach(self) -> duckdb.DuckDBPyConnection:
        import duckdb  # here, not at the top: a web worker or a render job that never reports never loads it

        connection = duckdb.connect(":memory:")
        try:
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute(f"ATTACH '{_quoted(self.path)}' AS {CATALOG}")
            connection.execute(create_table_sql(f"{CATALOG}.{SCHEMA}.{TABLE}"))
            _add_columns(connection, EVENTS)  # a database from before
            connection.execute(f"CREATE TABLE IF NOT EXISTS {LOADED} (name VARCHAR PRIMARY KEY, bytes BIGINT NOT NULL)")
            # The SQL each kept table was made by: the events each once's, then every report's.
            connection.execute(f"CREATE TABLE IF NOT EXISTS {KEPT} (name VARCHAR PRIMARY KEY, sql VARCHAR NOT NULL)")
            _unique_events_table(connection)
            _add_columns(connection, UNIQUE_EVENTS)  # a load inserts every column into both
            _channel_posts_table(connection)
            connection.execute(f"CREATE TABLE IF NOT EXISTS {STALE_DAYS} (day DATE PRIMARY KEY)")
            connection.execute(f"CREATE TABLE IF NOT EXISTS {STALE_POST_DAYS} (day DATE PRIMARY KEY)")
            _report_tables(connection)
            connection.execute(f"SELECT count(*) FROM {LOADED}").fetchone()  # reads the file, not only its header
        except BaseException:
            connection.close()
            raise
        return connection

    def _load(self, connection: duckdb.DuckDBPyConnection) -> None:
        loaded = dict(connection.execute(f"SELECT name, bytes FROM {LOADED}").fetchall())
        for path in sorted(self.folder.glob(PATTERN)):
            start = loaded.get(path.name, 0)
            with open(path, "rb") as handle:
                handle.seek(start)
                pending = b""
                while piece := handle.read(LOAD_CHUNK_BYTES):  # a big backlog in bounded pieces
                    pending += piece
                    end = pending.rfind(b"\n") + 1  # a line still being written waits for the next load
                    if end:
                        start += end
                        self._load_lines(connection, path.name, pending[:end], start)
                        pending = pending[end:]
        _refresh_reports(connection)  # once per load, not per piece: a backlog's days are made once

    def _load_lines(self, connection: duckdb.DuckDBPyConnection, name: str, lines: bytes, upto: int) -> None:
        import duckdb

        descriptor, chunk = tempfile.mkstemp(prefix="usage-", suffix=".jsonl")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(lines)
            connection.execute("BEGIN")
            new_events = (
                f"SELECT {_select_casts()} "
                f"FROM read_json(?, format = 'newline_delimited', columns = {_json_columns()}, ignore_errors = true) "
                "WHERE event_id IS NOT NULL"
            )
            columns = ", ".join(COLUMNS)
            connection.execute(f"CREATE OR REPLACE TEMP TABLE arrived AS {new_events}", [chunk])  # parsed once
            _kept_already(connection)
            # Each event's earliest copy that arrived, unless a copy stamped as early or earlier is kept.
            connection.execute(
                "CREATE OR REPLACE TEMP TABLE fresh AS SELECT arrived.* FROM arrived "
                "LEFT JOIN kept_already AS kept ON kept.event_id = arrived.event_id "
                "WHERE kept.event_id IS NULL OR arrived.event_ts < kept.event_ts "
                "QUALIFY ROW_NUMBER() OVER (PARTITION BY arrived.event_id ORDER BY arrived.event_ts) = 1"
            )
            # The kept copies an earlier-stamped one replaces: out, and their days made again.
            # Copies are one event delivered twice: they agree on its kind, channel and post, so
            # a replaced reaction's post is the one its replacement notes (_note_channel_posts).
            connection.execute(
                "CREATE OR REPLACE TEMP TABLE replaced AS SELECT kept.* FROM kept_already AS kept SEMI JOIN fresh "
                "ON fresh.event_id = kept.event_id"
            )
            _delete_replaced(connection)
            # In time order: a day's events stay a few row groups (see above).
            connection.execute(f"INSERT INTO {UNIQUE_EVENTS} ({columns}) SELECT {columns} FROM fresh ORDER BY event_ts")
            connection.execute(f"INSERT INTO {EVENTS} ({columns}) SELECT {columns} FROM arrived")
            connection.execute(
                f"INSERT OR IGNORE INTO {STALE_DAYS} SELECT DISTINCT CAST(event_ts AS DATE) FROM fresh "
                "UNION SELECT CAST(event_ts AS DATE) FROM replaced"
            )
            _note_channel_posts(connection)
            connection.execute(
                f"INSERT OR REPLACE INTO {LOADED} (name, bytes) VALUES (?, ?)",
                [name, upto],
            )
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                connection.execute("ROLLBACK")
            raise
        finally:
            os.unlink(chunk)
            with contextlib.suppress(duckdb.Error):
                for table in ("arrived", "kept_already", "fresh", "replaced", "touched_posts"):
                    connection.execute(f"DROP TABLE IF EXISTS temp.main.{table}")


def _kept_already(connection: duckdb.DuckDBPyConnection) -> None:
    """The arrived events that are kept already (copies delivered again): the kept copy's id
    and time, as a temporary table."""
    rows = connection.execute(f"SELECT DISTINCT event_id FROM arrived LIMIT {LOOKUP_MAX + 1}").fetchall()
    ids = [event_id for (event_id,) in rows]
    if len(ids) <= LOOKUP_MAX:  # constants, so the scan looks them up in the index (see above)
        listed = ", ".join("?" for _ in ids) or "NULL"
        query = f"SELECT event_id, event_ts FROM {UNIQUE_EVENTS} WHERE event_id IN ({listed})"
    else:
        ids, query = [], f"SELECT event_id, event_ts FROM {UNIQUE_EVENTS} SEMI JOIN arrived USING (event_id)"
    connection.execute(f"CREATE OR REPLACE TEMP TABLE kept_already AS {query}", ids)


def _delete_replaced(connection: duckdb.DuckDBPyConnection) -> None:
    """The replaced copies out of the events each once: looked up in the index by their ids
    as constants (a subquery would scan every kept event, each load, for none at all)."""
    ids = [event_id for (event_id,) in connection.execute("SELECT event_id FROM replaced").fetchall()]
    for start in range(0, len(ids), LOOKUP_MAX):
        some = ids[start : start + LOOKUP_MAX]
        connection.execute(f"DELETE FROM {UNIQUE_EVENTS} WHERE event_id IN ({', '.join('?' for _ in some)})", some)


def _note_channel_posts(connection: duckdb.DuckDBPyConnection) -> None:
    """The new events' posts: their first-seen days noted stale, the day each was first seen
    before and the day it is now (the same day unless an update stamped earlier came late),
    and their first-seen times kept. Posts are matched as the view partitions them, NULL
    matching NULL."""
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE touched_posts AS "
        "SELECT new.channel_id, new.post_id, LEAST(new.first_seen, post.first_seen) AS first_seen, "
        "post.first_seen AS was "
        "FROM (SELECT channel_id, post_id, MIN(event_ts) AS first_seen FROM fresh "
        "WHERE kind = 'channel_reaction' GROUP BY channel_id, post_id) AS new "
        f"LEFT JOIN {CHANNEL_POSTS} AS post "
        "ON post.channel_id IS NOT DISTINCT FROM new.channel_id AND post.post_id IS NOT DISTINCT FROM new.post_id"
    )
    connection.execute(
        f"INSERT OR IGNORE INTO {STALE_POST_DAYS} SELECT CAST(first_seen AS DATE) FROM touched_posts "
        "UNION SELECT CAST(was AS DATE) FROM touched_posts WHERE was IS NOT NULL"
    )
    connection.execute(
        f"DELETE FROM {CHANNEL_POSTS} AS post WHERE EXISTS (SELECT 1 FROM touched_posts AS new "
        "WHERE post.channel_id IS NOT DISTINCT FROM new.channel_id AND post.post_id IS NOT DISTINCT FROM new.post_id)"
    )
    connection.execute(f"INSERT INTO {CHANNEL_POSTS} SELECT channel_id, post_id, first_seen FROM touched_posts")


def _unique_events_table(connection: duckdb.DuckDBPyConnection) -> None:
    """The events each once, as a table in time order with each id once in an index. Made
    from every event by the view's rule where there is none (a database from before had a
    view of that name) or where it was kept by another rule: its SQL is kept beside the
    reports' (a database from before kept the first-loaded copy), and every report, with
    each post's first-seen time, is then made again. Indexed where a database from before
    had the table without the index. DuckDB refuses to drop or change a column of an indexed
    table (adding one is allowed): such a change must drop the index first and make it again."""
    index = f"{UNIQUE}_event_id"
    made_by = connection.execute(f"SELECT sql FROM {KEPT} WHERE name = ?", [UNIQUE]).fetchone()
    indexed = _exists(connection, index, "duckdb_indexes", "index_name")
    if indexed and made_by == (unique_duckdb_sql(),):
        return
    with _transaction(connection):
        if _exists(connection, UNIQUE_EVENTS, "duckdb_views", "view_name"):
            connection.execute(f"DROP VIEW {UNIQUE_EVENTS}")
        if not _exists(connection, UNIQUE_EVENTS) or made_by != (unique_duckdb_sql(),):
            if made_by is not None or _exists(connection, UNIQUE_EVENTS):
                log.warning("the usage events each once are made again by the view's rule; every report follows")
            if indexed:
                connection.execute(f"DROP INDEX {CATALOG}.{SCHEMA}.{index}")
            query = f"SELECT * FROM ({unique_duckdb_sql()}) ORDER BY event_ts"
            connection.execute(f"CREATE OR REPLACE TABLE {UNIQUE_EVENTS} AS {query}")
            connection.execute(f"DROP TABLE IF EXISTS {CHANNEL_POSTS}")  # made again from the events
            connection.execute(f"DELETE FROM {KEPT}")  # every report made again from every event
            connection.execute(f"INSERT INTO {KEPT} VALUES (?, ?)", [UNIQUE, unique_duckdb_sql()])
        connection.execute(f"CREATE UNIQUE INDEX {index} ON {UNIQUE_EVENTS} (event_id)")


def _exists(
    connection: duckdb.DuckDBPyConnection, entry: str, listed_in: str = "duckdb_tables", key: str = "table_name"
) -> bool:
    """Whether the attached database has this table (or view, or index: catalog.schema.name, or a bare index name)."""
    catalog, schema, name = entry.split(".") if "." in entry else (CATALOG, SCHEMA, entry)
    found = connection.execute(
        f"SELECT 1 FROM {listed_in}() WHERE database_name = ? AND schema_name = ? AND {key} = ?",
        [catalog, schema, name],
    ).fetchone()
    return found is not None


def _channel_posts_table(connection: duckdb.DuckDBPyConnection) -> None:
    """Each channel post's first-seen time (made from the events where a database from before
    has none; its channel_reactions is then made again whole, as a load stopped before its
    reports were made again noted no post's day there)."""
    if _exists(connection, CHANNEL_POSTS):
        return
    with _transaction(connection):
        connection.execute(
            f"CREATE TABLE {CHANNEL_POSTS} AS SELECT channel_id, post_id, MIN(event_ts) AS first_seen "
            f"FROM {UNIQUE_EVENTS} WHERE kind = 'channel_reaction' GROUP BY channel_id, post_id"
        )
        connection.execute(f"DELETE FROM {KEPT} WHERE name = ?", [POSTS_REPORT])


def _report_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Each report's table, made from every event where it is missing or its view's SQL changed."""
    kept = dict(connection.execute(f"SELECT name, sql FROM {KEPT}").fetchall())
    for name in view_names():
        if kept.get(name) == view_duckdb_sql(name) and (name not in MONTHLY or _exists(connection, days_table(name))):
            continue
        with _transaction(connection):
            with _events_read(connection, "TRUE"):
                connection.execute(f"CREATE OR REPLACE TABLE {report_table(name)} AS {_view_over_read_events(name)}")
            if name in MONTHLY:
                days = connection.execute(
                    f"SELECT DISTINCT CAST(make_timestamp(epoch_us(event_ts)) AS DATE) FROM {UNIQUE_EVENTS} ORDER BY 1"
                ).fetchall()
                connection.execute(
                    f"CREATE OR REPLACE TABLE {days_table(name)} AS "
                    f"SELECT CAST(NULL AS DATE) AS day, * FROM {report_table(name)} LIMIT 0"
                )
                _days_again(connection, name, [day for (day,) in days])
            connection.execute(f"INSERT OR REPLACE INTO {KEPT} VALUES (?, ?)", [name, view_duckdb_sql(name)])
    for name in set(kept) - {*view_names(), UNIQUE}:  # a view that was deleted
        with _transaction(connection):
            connection.execute(f"DROP TABLE IF EXISTS {report_table(name)}")
            connection.execute(f"DROP TABLE IF EXISTS {days_table(name)}")
            connection.execute(f"DELETE FROM {KEPT} WHERE name = ?", [name])


def _refresh_reports(connection: duckdb.DuckDBPyConnection) -> None:
    """The stale days' rows of every report, made again by its view over those days' events."""
    days = [day for (day,) in connection.execute(f"SELECT day FROM {STALE_DAYS} ORDER BY day").fetchall()]
    if not days:
        return
    post_days = [day for (day,) in connection.execute(f"SELECT day FROM {STALE_POST_DAYS} ORDER BY day").fetchall()]
    with _transaction(connection):
        for name in view_names():
            table = report_table(name)
            if name in MONTHLY:
                _days_again(connection, name, days)
                months = _listed(sorted({day.replace(day=1) for day in days}))
                connection.execute(f"DELETE FROM {table} WHERE month IN ({months})")
                connection.execute(
                    f"INSERT INTO {table} SELECT * FROM ({month_from_days_sql(name)}) WHERE month IN ({months})"
                )
            elif name == POSTS_REPORT:
                if post_days:
                    with _events_read(connection, _posts_first_seen_on(post_days)):
                        connection.execute(f"DELETE FROM {table} WHERE day IN ({_listed(post_days)})")
                        connection.execute(f"INSERT INTO {table} {_view_over_read_events(name)}")
            else:
                with _events_read(connection, _within(_spans(days))):
                    connection.execute(f"DELETE FROM {table} WHERE day IN ({_listed(days)})")
                    connection.execute(f"INSERT INTO {table} {_view_over_read_events(name)}")
        connection.execute(f"DELETE FROM {STALE_DAYS}")
        connection.execute(f"DELETE FROM {STALE_POST_DAYS}")


def _days_again(connection: duckdb.DuckDBPyConnection, name: str, days: list[date]) -> None:
    """A monthly report's rows for each of these days, from the view over that day's events alone."""
    connection.execute(f"DELETE FROM {days_table(name)} WHERE day IN ({_listed(days) or 'NULL'})")
    for day in days:
        with _events_read(connection, _within(_spans([day]))):
            connection.execute(
                f"INSERT INTO {days_table(name)} SELECT DATE '{day.isoformat()}' AS day, * "
                f"FROM ({_view_over_read_events(name)})"
            )


def _posts_first_seen_on(days: list[date]) -> str:
    """The events of every post first seen on these days: all of them are from the first of
    those days on (a bare comparison, so the scan skips the older row groups)."""
    return (
        f"kind = 'channel_reaction' AND event_ts >= TIMESTAMPTZ '{days[0]} 00:00:00+00' "
        f"AND EXISTS (SELECT 1 FROM {CHANNEL_POSTS} AS post WHERE CAST(post.first_seen AS DATE) IN ({_listed(days)}) "
        "AND post.channel_id IS NOT DISTINCT FROM event.channel_id AND post.post_id IS NOT DISTINCT FROM event.post_id)"
    )


def _listed(days: list[date]) -> str:
    return ", ".join(f"DATE '{day.isoformat()}'" for day in days)


@contextlib.contextmanager
def _events_read(connection: duckdb.DuckDBPyConnection, where: str) -> Iterator[None]:
    """The events a view reads while its table is made: those matching `where`, with
    event_ts as the UTC time without a zone (its microseconds since 1970, as stored). The
    view's DATE(event_ts) is then arithmetic, where on the stored TIMESTAMPTZ it is a time
    zone lookup per event, seven times slower and most of a view's time. The day is the same:
    BigQuery's DATE(timestamp) is the UTC day, and the connection's zone is UTC."""
    connection.execute(
        f"CREATE OR REPLACE TEMP VIEW {UNIQUE} AS SELECT * REPLACE (make_timestamp(epoch_us(event_ts)) AS event_ts) "
        f"FROM {UNIQUE_EVENTS} AS event WHERE {where}"
    )
    import duckdb

    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):  # a failed transaction's error is the one to see
            connection.execute(f"DROP VIEW IF EXISTS {READ_CATALOG}.{READ_SCHEMA}.{UNIQUE}")


def _view_over_read_events(name: str) -> str:
    return f"SELECT * FROM ({view_duckdb_sql(name, READ_CATALOG, READ_SCHEMA)})"


def _spans(days: list[date]) -> list[tuple[date, date]]:
    """Days, oldest first, as [start, end) spans, neighbours joined."""
    spans: list[tuple[date, date]] = []
    for start in days:
        end = start + timedelta(days=1)
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _within(spans: list[tuple[date, date]]) -> str:
    """Events in the spans of UTC days, as bare comparisons of event_ts: no cast of every event's
    time to a date (a time zone lookup per row, most of a view's time), and the scan skips blocks."""
    return " OR ".join(
        f"(event_ts >= TIMESTAMPTZ '{start} 00:00:00+00' AND event_ts < TIMESTAMPTZ '{end} 00:00:00+00')"
        for start, end in spans
    )


@contextlib.contextmanager
def _transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    import duckdb

    connection.execute("BEGIN")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            connection.execute("ROLLBACK")
        raise


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
