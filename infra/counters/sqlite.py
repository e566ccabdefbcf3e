"""Counters in the SQLite file (infra.sqlite): the embedded twin of Firestore's.

Every change is one write transaction (BEGIN IMMEDIATE), so the processes of the site
and the render jobs, each with its own connection, see one count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from infra.counters import Counters, Limit, distinct
from infra.domain.ids import now
from infra.sqlite import SqliteDatabase


class SqliteCounters(Counters):
    def __init__(self, database: SqliteDatabase):
        self._db = database

    def take(self, limits: Sequence[Limit], amount: int = 1) -> Limit | None:
        distinct(limits)
        connection = self._db.connect()
        moment = _iso(now())
        connection.execute("BEGIN IMMEDIATE")
        try:
            for limit in limits:
                if _live(connection, limit.key, moment) + amount > limit.maximum:
                    connection.execute("ROLLBACK")
                    return limit
            for limit in limits:
                _add(connection, limit.key, amount, limit.expires_at, moment)
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (moment,))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return None

    def give_back(self, keys: Sequence[str], amount: int = 1) -> None:
        connection = self._db.connect()
        moment = _iso(now())
        for key in keys:
            connection.execute(
                "UPDATE counters SET value = MAX(value - ?, 0) WHERE key = ? AND expires_at > ?", (amount, key, moment)
            )

    def add(self, key: str, amount: int, expires_at: datetime) -> int:
        connection = self._db.connect()
        moment = _iso(now())
        connection.execute("BEGIN IMMEDIATE")
        try:
            _add(connection, key, amount, expires_at, moment)
            value = _live(connection, key, moment)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return value

    def value(self, key: str) -> int:
        return _live(self._db.connect(), key, _iso(now()))

    def expires_at(self, key: str) -> datetime | None:
        row = (
            self._db.connect()
            .execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, _iso(now())))
            .fetchone()
        )
        return datetime.fromisoformat(row[0]) if row else None

    def clear(self, key: str) -> None:
        self._db.connect().execute("DELETE FROM counters WHERE key = ?", (key,))

    def check(self) -> None:
        self._db.check()


def _live(connection, key: str, moment: str) -> int:
    row = connection.execute("SELECT value FROM counters WHERE key = ? AND expires_at > ?", (key, moment)).fetchone()
    return row[0] if row else 0


def _add(connection, key: str, amount: int, expires_at: datetime, moment: str) -> None:
    """Adds to a live counter, or starts an expired or missing one at `amount`."""
    connection.execute(
        "INSERT INTO counters (key, value, expires_at) VALUES (:key, :amount, :expires) "
        "ON CONFLICT(key) DO UPDATE SET "
        "value = CASE WHEN expires_at > :now THEN value + :amount ELSE :amount END, "
        "expires_at = CASE WHEN expires_at > :now THEN expires_at ELSE :expires END",
        {"key": key, "amount": amount, "expires": _iso(expires_at), "now": moment},
    )


def _iso(moment: datetime) -> str:
    """UTC with microseconds: one format, so the text compares as the times do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
