"""The render queue as a table in the records' SQLite file.

A worker claims the oldest unclaimed request in one UPDATE ... RETURNING, so two
workers can never claim the same request. A claimed request stays in the table until
it is acknowledged: if the worker dies, `recover` makes it claimable again.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.queue import RenderQueue
from infra.records import now
from infra.records_sqlite import SqliteDatabase


@dataclass(frozen=True)
class Delivery:
    render_id: str
    attempt: int  # 1 for the first delivery of this request


class SqliteRenderQueue(RenderQueue):
    def __init__(self, database: SqliteDatabase):
        self._db = database

    def submit(self, render_id: str) -> None:
        self._db.connect().execute(
            "INSERT OR IGNORE INTO render_queue (render_id, enqueued_at) VALUES (?, ?)",
            (render_id, now().isoformat()),
        )

    def depth(self) -> int:
        return self._db.connect().execute("SELECT COUNT(*) FROM render_queue").fetchone()[0]

    def claim(self) -> Delivery | None:
        row = (
            self._db.connect()
            .execute(
                "UPDATE render_queue SET claimed_at = ?, deliveries = deliveries + 1 "
                "WHERE render_id = (SELECT render_id FROM render_queue WHERE claimed_at IS NULL "
                "ORDER BY enqueued_at LIMIT 1) AND claimed_at IS NULL "
                "RETURNING render_id, deliveries",
                (now().isoformat(),),
            )
            .fetchone()
        )
        return Delivery(row["render_id"], row["deliveries"]) if row else None

    def acknowledge(self, render_id: str) -> None:
        """The request is done with, whatever its outcome."""
        self._db.connect().execute("DELETE FROM render_queue WHERE render_id = ?", (render_id,))

    def release(self, render_id: str) -> None:
        """The request goes back to be delivered again."""
        self._db.connect().execute("UPDATE render_queue SET claimed_at = NULL WHERE render_id = ?", (render_id,))

    def recover(self) -> list[str]:
        """Releases every claimed request: called when a worker starts, as no other can hold one."""
        rows = self._db.connect().execute(
            "UPDATE render_queue SET claimed_at = NULL WHERE claimed_at IS NOT NULL RETURNING render_id"
        )
        return [row["render_id"] for row in rows]
