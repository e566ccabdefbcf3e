"""The render queue as a table in the records' SQLite file.

A worker claims the next request in one UPDATE ... RETURNING, so two workers can never
claim the same request. Next means round-robin across people (infra.domain.queueing):
a request's turn is how many of its owner's requests are ahead of it in the table,
waiting or being made, and the lowest turn goes first, the oldest within a turn. A
claimed request stays in the table until it is acknowledged: if the worker dies,
`recover` makes it claimable again.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.domain.ids import now
from infra.queue import RenderQueue
from infra.sqlite import SqliteDatabase


@dataclass(frozen=True)
class Delivery:
    render_id: str
    attempt: int  # 1 for the first delivery of this request
    claimed_by: int | None = None  # the pid of the job running it, once started


# The unclaimed request whose turn comes first (a request of a render no longer in the
# records has its own turn, and is settled when claimed).
_NEXT = (
    "SELECT render_id FROM (SELECT q.render_id, q.claimed_at, q.enqueued_at, ROW_NUMBER() OVER "
    "(PARTITION BY COALESCE(r.user_id, q.render_id) ORDER BY q.enqueued_at, q.render_id) AS turn "
    "FROM render_queue q LEFT JOIN renders r ON r.id = q.render_id) "
    "WHERE claimed_at IS NULL ORDER BY turn, enqueued_at, render_id LIMIT 1"
)


class SqliteRenderQueue(RenderQueue):
    def __init__(self, database: SqliteDatabase):
        self._db = database

    def submit(self, render_id: str) -> None:
        self._db.connect().execute(
            "INSERT OR IGNORE INTO render_queue (render_id, enqueued_at) VALUES (?, ?)",
            (render_id, now().isoformat(timespec="microseconds")),
        )

    def withdraw(self, render_id: str) -> None:
        self._db.connect().execute("DELETE FROM render_queue WHERE render_id = ? AND claimed_at IS NULL", (render_id,))

    def check(self) -> None:
        self._db.check()

    def depth(self) -> int:
        return self._db.connect().execute("SELECT COUNT(*) FROM render_queue").fetchone()[0]

    def claim(self) -> Delivery | None:
        row = (
            self._db.connect()
            .execute(
                "UPDATE render_queue SET claimed_at = ?, deliveries = deliveries + 1 "
                f"WHERE render_id = ({_NEXT}) AND claimed_at IS NULL "
                "RETURNING render_id, deliveries",
                (now().isoformat(timespec="microseconds"),),
            )
            .fetchone()
        )
        return Delivery(row["render_id"], row["deliveries"]) if row else None

    def mark_claimed_by(self, render_id: str, pid: int) -> None:
        """Remembers which process runs the request, so a later worker can find it."""
        self._db.connect().execute("UPDATE render_queue SET claimed_by = ? WHERE render_id = ?", (pid, render_id))

    def acknowledge(self, render_id: str) -> None:
        """The request is done with, whatever its outcome."""
        self._db.connect().execute("DELETE FROM render_queue WHERE render_id = ?", (render_id,))

    def release(self, render_id: str) -> None:
        """The request goes back to be delivered again."""
        self._db.connect().execute(
            "UPDATE render_queue SET claimed_at = NULL, claimed_by = NULL WHERE render_id = ?", (render_id,)
        )

    def recover(self) -> list[Delivery]:
        """The requests a dead worker left claimed (called when a worker starts, as no
        other can hold one); each stays claimed until settled, like a fresh claim."""
        rows = self._db.connect().execute(
            "SELECT render_id, deliveries, claimed_by FROM render_queue WHERE claimed_at IS NOT NULL"
        )
        return [Delivery(row["render_id"], row["deliveries"], row["claimed_by"]) for row in rows]
