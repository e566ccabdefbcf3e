"""Records in the SQLite file (infra.sqlite): the embedded twin of Firestore."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from infra.domain.book import Book
from infra.domain.idempotency import KeptRequest
from infra.domain.ids import now
from infra.domain.plan import Plan
from infra.domain.presets import DEFAULT_CLIP_SECONDS
from infra.domain.queueing import QueueEntry
from infra.domain.reel import Reel
from infra.domain.render import UNFINISHED, Render, RenderState
from infra.domain.scene import Scene
from infra.domain.user import User
from infra.records import Records, stored_spec
from infra.sqlite import SqliteDatabase

_UNFINISHED = "('queued', 'dispatching', 'running')"
# Any writer when no runner is named; else only the attempt holding the running render.
_HELD_BY = "(? IS NULL OR (state = 'running' AND runner IS ?))"


class SqliteRecords(Records):
    def __init__(self, database: SqliteDatabase):
        self._db = database

    def _execute(self, sql: str, parameters: tuple | dict = ()) -> sqlite3.Cursor:
        return self._db.connect().execute(sql, parameters)

    def check(self) -> None:
        self._db.check()

    def ensure_user(self, user_id: str) -> None:
        self._execute("INSERT OR IGNORE INTO users (id, created_at) VALUES (?, ?)", (user_id, _iso(now())))

    def get_user(self, user_id: str) -> User | None:
        row = self._execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return _user(row) if row else None

    def save_user(self, user: User) -> None:
        self._execute(
            "INSERT INTO users (id, created_at, account, email, name, publishing_blocked, language, chat_scene, plan) "
            "VALUES (:id, :created_at, :account, :email, :name, :publishing_blocked, :language, :chat_scene, :plan) "
            "ON CONFLICT(id) DO UPDATE SET account = excluded.account, email = excluded.email, name = excluded.name",
            user.model_dump() | {"created_at": _iso(user.created_at)},
        )

    def set_chat(self, user_id: str, *, language: str | None = None, scene: str | None = None) -> None:
        self.ensure_user(user_id)
        self._execute(
            "UPDATE users SET language = COALESCE(?, language), chat_scene = COALESCE(?, chat_scene) WHERE id = ?",
            (language, scene, user_id),
        )

    def set_publishing_blocked(self, user_id: str, blocked: bool) -> User:
        self.ensure_user(user_id)
        self._execute("UPDATE users SET publishing_blocked = ? WHERE id = ?", (blocked, user_id))
        user = self.get_user(user_id)
        assert user is not None  # just made, and users are never deleted
        return user

    def set_plan(self, user_id: str, plan: str | None) -> User | None:
        self._execute("UPDATE users SET plan = ? WHERE id = ?", (plan, user_id))
        return self.get_user(user_id)

    def save_plan(self, plan: Plan) -> None:
        self._execute(
            "INSERT INTO plans (name, data) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data",
            (plan.name, plan.model_dump_json()),
        )

    def get_plan(self, name: str) -> Plan | None:
        row = self._execute("SELECT data FROM plans WHERE name = ?", (name,)).fetchone()
        return Plan.model_validate_json(row["data"]) if row else None

    def plans(self) -> list[Plan]:
        return [Plan.model_validate_json(row["data"]) for row in self._execute("SELECT data FROM plans ORDER BY name")]

    def users_on_plans(self, limit: int = 200) -> list[User]:
        rows = self._execute("SELECT * FROM users WHERE plan IS NOT NULL ORDER BY id LIMIT ?", (limit,))
        return [_user(row) for row in rows]

    def users_blocked_from_publishing(self, limit: int = 200) -> list[User]:
        rows = self._execute("SELECT * FROM users WHERE publishing_blocked = 1 ORDER BY id LIMIT ?", (limit,))
        return [_user(row) for row in rows]

    def transfer_work(self, from_user: str, to_user: str) -> int:
        self.ensure_user(to_user)
        connection = self._db.connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            # A scene keeps its owner twice: the column the queries use, and the stored scene.
            scenes = connection.execute(
                "UPDATE scenes SET user_id = :to, data = json_set(data, '$.user_id', :to) WHERE user_id = :from",
                {"to": to_user, "from": from_user},
            ).rowcount
            renders = connection.execute(
                "UPDATE renders SET user_id = ? WHERE user_id = ?", (to_user, from_user)
            ).rowcount
            connection.execute(
                "UPDATE books SET user_id = :to, data = json_set(data, '$.user_id', :to) WHERE user_id = :from",
                {"to": to_user, "from": from_user},
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return scenes + renders

    def save_scene(self, scene: Scene) -> None:
        self.ensure_user(scene.user_id)
        self._execute(
            "INSERT INTO scenes (id, user_id, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (scene.id, scene.user_id, scene.model_dump_json(), _iso(scene.updated_at)),
        )

    def replace_scene(self, scene: Scene, version: int) -> bool:
        changed = self._execute(
            "UPDATE scenes SET data = ?, updated_at = ? "
            "WHERE id = ? AND COALESCE(json_extract(data, '$.version'), 0) = ?",
            (scene.model_dump_json(), _iso(scene.updated_at), scene.id, version),
        ).rowcount
        return changed == 1

    def save_book(self, book: Book) -> None:
        self.ensure_user(book.user_id)
        self._execute(
            "INSERT INTO books (id, user_id, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (book.id, book.user_id, book.model_dump_json(), _iso(book.updated_at)),
        )

    def replace_book(self, book: Book, version: int) -> bool:
        changed = self._execute(
            "UPDATE books SET data = ?, updated_at = ? WHERE id = ? AND json_extract(data, '$.version') = ?",
            (book.model_dump_json(), _iso(book.updated_at), book.id, version),
        ).rowcount
        return changed == 1

    def get_book(self, book_id: str) -> Book | None:
        row = self._execute("SELECT data FROM books WHERE id = ?", (book_id,)).fetchone()
        return Book.model_validate_json(row["data"]) if row else None

    def list_books(self, user_id: str, limit: int = 50) -> list[Book]:
        rows = self._execute(
            "SELECT data FROM books WHERE user_id = ? ORDER BY updated_at DESC, id LIMIT ?", (user_id, limit)
        )
        return [Book.model_validate_json(row["data"]) for row in rows]

    def claim_request(self, request: KeptRequest) -> KeptRequest | None:
        connection = self._db.connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            row = connection.execute(
                "SELECT * FROM kept_requests WHERE user_id = ? AND key = ?", (request.user_id, request.key)
            ).fetchone()
            kept = _kept(row) if row else None
            if kept is not None and not kept.lapsed(request.created_at):
                connection.execute("COMMIT")
                return kept
            connection.execute(
                "INSERT OR REPLACE INTO kept_requests (user_id, key, fingerprint, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (request.user_id, request.key, request.fingerprint, _iso(request.created_at), _iso(request.expires_at)),
            )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return None

    def answer_request(self, user_id: str, key: str, status: int, body: str) -> None:
        self._execute(
            "UPDATE kept_requests SET status = ?, body = ? WHERE user_id = ? AND key = ?", (status, body, user_id, key)
        )

    def release_request(self, user_id: str, key: str) -> None:
        self._execute("DELETE FROM kept_requests WHERE user_id = ? AND key = ? AND status IS NULL", (user_id, key))

    def get_scene(self, scene_id: str) -> Scene | None:
        row = self._execute("SELECT data FROM scenes WHERE id = ?", (scene_id,)).fetchone()
        return Scene.model_validate_json(row["data"]) if row else None

    def add_dialogue_turn(self, scene_id: str, role: str, content: dict[str, Any]) -> None:
        self._execute(
            "INSERT INTO dialogue_turns (scene_id, role, content, created_at) VALUES (?, ?, ?, ?)",
            (scene_id, role, json.dumps(content, ensure_ascii=False), _iso(now())),
        )

    def dialogue_turns(self, scene_id: str) -> list[dict[str, Any]]:
        rows = self._execute(
            "SELECT role, content, created_at FROM dialogue_turns WHERE scene_id = ? ORDER BY id", (scene_id,)
        )
        return [{"role": r["role"], "content": json.loads(r["content"]), "created_at": r["created_at"]} for r in rows]

    def create_render(self, render: Render) -> None:
        self.ensure_user(render.user_id)
        self._execute(
            "INSERT INTO renders (id, user_id, scene_id, spec, state, created_at, quota, requested_preset, reel) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                render.id,
                render.user_id,
                render.scene_id,
                render.spec.model_dump_json(),
                render.state,
                _iso(render.created_at),
                json.dumps(render.quota),
                render.requested_preset,
                render.reel and render.reel.model_dump_json(),
            ),
        )

    def get_render(self, render_id: str) -> Render | None:
        row = self._execute("SELECT * FROM renders WHERE id = ?", (render_id,)).fetchone()
        return _render(row) if row else None

    def delete_render(self, render_id: str) -> None:
        self._execute("DELETE FROM render_queue WHERE render_id = ?", (render_id,))
        self._execute("DELETE FROM renders WHERE id = ?", (render_id,))

    def list_renders(self, user_id: str, limit: int = 50) -> list[Render]:
        rows = self._execute(
            "SELECT * FROM renders WHERE user_id = ? ORDER BY created_at DESC LIMIT ?", (user_id, limit)
        )
        return [_render(row) for row in rows]

    def count_renders_since(self, user_id: str, since: datetime) -> int:
        row = self._execute(
            "SELECT COUNT(*) FROM renders WHERE user_id = ? AND created_at >= ?", (user_id, _iso(since))
        ).fetchone()
        return row[0]

    def count_renders(self, state: RenderState) -> int:
        return self._execute("SELECT COUNT(*) FROM renders WHERE state = ?", (state,)).fetchone()[0]

    def stale_renders(self, state: RenderState, before: datetime, limit: int = 100) -> list[Render]:
        # A render dispatched before dispatched_at was kept: since it was made, as it was judged then.
        since = {"running": "started_at", "dispatching": "COALESCE(dispatched_at, created_at)"}.get(state, "created_at")
        rows = self._execute(
            f"SELECT * FROM renders WHERE state = ? AND {since} < ? ORDER BY {since} LIMIT ?",
            (state, _iso(before), limit),
        )
        return [_render(row) for row in rows]

    def recent_render_times(self, limit: int = 1000) -> list[tuple[float, int]]:
        rows = self._execute(
            "SELECT json_extract(timings, '$.render_s'), "
            f"COALESCE(json_extract(spec, '$.storyboard.clip_seconds'), {DEFAULT_CLIP_SECONDS}) "
            "FROM renders WHERE state = 'succeeded' AND reel IS NULL "
            "AND json_extract(timings, '$.render_s') IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
            (limit,),
        )
        return [(row[0], row[1]) for row in rows]

    def in_progress(self, limit: int = 500) -> list[QueueEntry]:
        rows = self._execute(
            "SELECT id, user_id, state, created_at, started_at, "
            "CASE WHEN reel IS NOT NULL THEN 0 "
            f"ELSE COALESCE(json_extract(spec, '$.storyboard.clip_seconds'), {DEFAULT_CLIP_SECONDS}) "
            "END AS clip_seconds "
            f"FROM renders WHERE state IN {_UNFINISHED} "
            "ORDER BY created_at LIMIT ?",
            (limit,),
        )
        return [
            QueueEntry(
                render_id=row["id"],
                user_id=row["user_id"],
                state=row["state"],
                created_at=datetime.fromisoformat(row["created_at"]),
                started_at=datetime.fromisoformat(row["started_at"]) if row["started_at"] else None,
                clip_seconds=row["clip_seconds"],
            )
            for row in rows
        ]

    def count_in_flight(self, user_id: str) -> int:
        return self._execute(
            "SELECT COUNT(*) FROM renders WHERE user_id = ? AND state IN ('dispatching', 'running')", (user_id,)
        ).fetchone()[0]

    def mark_dispatching(self, render_id: str) -> bool:
        return self._changed(
            "UPDATE renders SET state = 'dispatching', dispatched_at = ? WHERE id = ? AND state = 'queued'",
            (_iso(now()), render_id),
        )

    def mark_running(self, render_id: str, attempt: int, runner: str) -> bool:
        return self._changed(
            "UPDATE renders SET state = 'running', attempts = :attempt, runner = :runner, progress = 0, "
            "stage = 'loading', started_at = :now, progress_at = :now, error = NULL WHERE id = :id "
            "AND (state IN ('queued', 'dispatching') OR (state = 'running' AND attempts < :attempt))",
            {"id": render_id, "attempt": attempt, "runner": runner, "now": _iso(now())},
        )

    def report_progress(self, render_id: str, runner: str, stage: str, progress: float) -> bool:
        return self._changed(
            "UPDATE renders SET stage = ?, progress = MAX(progress, ?), progress_at = ? "
            "WHERE id = ? AND state = 'running' AND runner = ?",
            (stage, progress, _iso(now()), render_id, runner),
        )

    def mark_succeeded(self, render_id: str, runner: str, artifacts: dict[str, str], timings: dict[str, float]) -> bool:
        return self._changed(
            "UPDATE renders SET state = 'succeeded', progress = 1, stage = NULL, error = NULL, "
            "artifacts = ?, timings = ?, finished_at = ? WHERE id = ? AND state = 'running' AND runner = ?",
            (json.dumps(artifacts), json.dumps(timings), _iso(now()), render_id, runner),
        )

    def mark_failed(self, render_id: str, error: str, runner: str | None = None) -> bool:
        return self._changed(
            f"UPDATE renders SET state = 'failed', stage = NULL, error = ?, finished_at = ? "
            f"WHERE id = ? AND state IN {_UNFINISHED} AND {_HELD_BY}",
            (error, _iso(now()), render_id, runner, runner),
        )

    def fail_unstarted(self, render_id: str, error: str) -> bool:
        return self._changed(
            "UPDATE renders SET state = 'failed', error = ?, finished_at = ? "
            "WHERE id = ? AND state = 'queued' AND attempts = 0",
            (error, _iso(now()), render_id),
        )

    def requeue(self, render_id: str, note: str | None = None, runner: str | None = None) -> bool:
        return self._changed(
            "UPDATE renders SET state = 'queued', progress = 0, stage = NULL, error = ?, runner = NULL "
            f"WHERE id = ? AND state IN ('dispatching', 'running') AND {_HELD_BY}",
            (note, render_id, runner, runner),
        )

    def cancel(self, render_id: str) -> RenderState | None:
        while True:  # compare and set: the update holds only while the state is the one read
            row = self._execute("SELECT state FROM renders WHERE id = ?", (render_id,)).fetchone()
            if row is None or row["state"] not in UNFINISHED:
                return None
            if self._changed(
                "UPDATE renders SET state = 'cancelled', stage = NULL, finished_at = ? WHERE id = ? AND state = ?",
                (_iso(now()), render_id, row["state"]),
            ):
                return row["state"]

    def _changed(self, sql: str, parameters: tuple | dict) -> bool:
        return self._execute(sql, parameters).rowcount == 1


def _kept(row: sqlite3.Row) -> KeptRequest:
    return KeptRequest.model_validate(dict(row))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        account=bool(row["account"]),
        email=row["email"],
        name=row["name"],
        publishing_blocked=bool(row["publishing_blocked"]),
        language=row["language"],
        chat_scene=row["chat_scene"],
        plan=row["plan"],
        created_at=row["created_at"],
    )


def _render(row: sqlite3.Row) -> Render:
    return Render(
        id=row["id"],
        user_id=row["user_id"],
        scene_id=row["scene_id"],
        spec=stored_spec(row["spec"]),
        state=row["state"],
        progress=row["progress"],
        stage=row["stage"],
        error=row["error"],
        attempts=row["attempts"],
        runner=row["runner"],
        artifacts=json.loads(row["artifacts"]),
        timings=json.loads(row["timings"]),
        created_at=row["created_at"],
        dispatched_at=row["dispatched_at"],
        started_at=row["started_at"],
        progress_at=row["progress_at"],
        finished_at=row["finished_at"],
        quota=json.loads(row["quota"]),
        requested_preset=row["requested_preset"],
        reel=Reel.model_validate_json(row["reel"]) if row["reel"] else None,
    )
