"""Records in Firestore (native mode): the cloud twin of infra.records.sqlite.

Collections: `users`, `scenes` (with a `turns` subcollection for the dialogue) and
`renders`. Every status transition is a compare-and-set: it reads the render and writes
only if its state allows the change and nobody wrote it in between, so two deliveries
of one request never both start, finish or fail it. The queries below need the composite indexes listed in
infra/firestore_indexes.json, which terraform creates (the emulator needs none).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from infra.domain.book import Book
from infra.domain.idempotency import KeptRequest, document_id
from infra.domain.ids import now
from infra.domain.plan import Plan
from infra.domain.presets import DEFAULT_CLIP_SECONDS
from infra.domain.queueing import QueueEntry
from infra.domain.render import UNFINISHED, Render, RenderState
from infra.domain.scene import Scene
from infra.domain.user import User
from infra.firestore import TRANSITION_ATTEMPTS, Document, compare_and_set, count
from infra.records import Records, stored_spec

# Each instance's readiness probe writes a document of its own.
_INSTANCE = f"web-{uuid.uuid4().hex[:12]}"
# Firestore commits at most 500 writes at once.
_BATCH = 500
# Who a user is, which signing in may update; publishing_blocked and created_at are not among them.
_PROFILE = ("account", "email", "name")


class FirestoreRecords(Records):
    def __init__(self, client: firestore.Client):
        self._client = client
        self._users = client.collection("users")
        self._scenes = client.collection("scenes")
        self._renders = client.collection("renders")
        self._plans = client.collection("plans")
        self._books = client.collection("books")
        # Idempotency-Keys' first answers; a TTL policy on expires_at deletes them (terraform).
        self._kept = client.collection("kept_requests")

    def check(self) -> None:
        probe = self._client.collection("health").document(_INSTANCE)
        probe.set({"checked_at": firestore.SERVER_TIMESTAMP})
        if not probe.get().exists:
            raise RuntimeError("a document just written could not be read back")

    def ensure_user(self, user_id: str) -> None:
        with contextlib.suppress(AlreadyExists):  # a user's created_at is when they were first seen
            self._users.document(user_id).create(User(id=user_id).model_dump(exclude={"id"}))

    def get_user(self, user_id: str) -> User | None:
        snapshot = self._users.document(user_id).get()
        return _user(snapshot) if snapshot.exists else None

    def save_user(self, user: User) -> None:
        reference = self._users.document(user.id)
        try:
            reference.create(user.model_dump(exclude={"id"}))
        except AlreadyExists:
            reference.update(user.model_dump(include=set(_PROFILE)))

    def set_chat(self, user_id: str, *, language: str | None = None, scene: str | None = None) -> None:
        changes = {key: value for key, value in (("language", language), ("chat_scene", scene)) if value is not None}
        if not changes:
            return
        self.ensure_user(user_id)
        self._users.document(user_id).update(changes)

    def set_publishing_blocked(self, user_id: str, blocked: bool) -> User:
        reference = self._users.document(user_id)
        try:
            reference.update({"publishing_blocked": blocked})
        except NotFound:
            with contextlib.suppress(AlreadyExists):  # made meanwhile: update it below
                reference.create(User(id=user_id, publishing_blocked=blocked).model_dump(exclude={"id"}))
            reference.update({"publishing_blocked": blocked})
        return _user(reference.get())

    def set_plan(self, user_id: str, plan: str | None) -> User | None:
        reference = self._users.document(user_id)
        try:
            reference.update({"plan": plan})
        except NotFound:
            return None
        return _user(reference.get())

    def save_plan(self, plan: Plan) -> None:
        self._plans.document(plan.name).set(plan.model_dump(mode="json"))

    def get_plan(self, name: str) -> Plan | None:
        snapshot = self._plans.document(name).get()
        return Plan.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def plans(self) -> list[Plan]:
        return sorted((Plan.model_validate(s.to_dict()) for s in self._plans.stream()), key=lambda plan: plan.name)

    def users_on_plans(self, limit: int = 200) -> list[User]:
        # Firestore's != leaves out documents without the field and those holding null.
        query = self._users.where(filter=FieldFilter("plan", "!=", None)).order_by("plan").limit(limit)
        return sorted((_user(snapshot) for snapshot in query.stream()), key=lambda user: user.id)

    def users_blocked_from_publishing(self, limit: int = 200) -> list[User]:
        query = self._users.where(filter=FieldFilter("publishing_blocked", "==", True)).limit(limit)
        return sorted((_user(snapshot) for snapshot in query.stream()), key=lambda user: user.id)

    def transfer_work(self, from_user: str, to_user: str) -> int:
        self.ensure_user(to_user)
        moved = 0
        for collection in (self._scenes, self._renders, self._books):
            query = collection.where(filter=FieldFilter("user_id", "==", from_user))
            snapshots = list(query.stream())
            for start in range(0, len(snapshots), _BATCH):
                batch = self._client.batch()
                for snapshot in snapshots[start : start + _BATCH]:
                    batch.update(snapshot.reference, {"user_id": to_user})
                batch.commit()
            moved += len(snapshots)
        return moved

    def save_scene(self, scene: Scene) -> None:
        self._scenes.document(scene.id).set(scene.model_dump())

    def replace_scene(self, scene: Scene, version: int) -> bool:
        def change(stored: Document | None) -> Document | None:
            if stored is None or stored.get("version", 0) != version:
                return None
            return scene.model_dump()

        return compare_and_set(self._client, self._scenes.document(scene.id), change) is not None

    def save_book(self, book: Book) -> None:
        self._books.document(book.id).set(book.model_dump())

    def replace_book(self, book: Book, version: int) -> bool:
        def change(stored: Document | None) -> Document | None:
            if stored is None or stored.get("version") != version:
                return None
            return book.model_dump()

        return compare_and_set(self._client, self._books.document(book.id), change) is not None

    def get_book(self, book_id: str) -> Book | None:
        snapshot = self._books.document(book_id).get()
        return Book.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def list_books(self, user_id: str, limit: int = 50) -> list[Book]:
        query = (
            self._books.where(filter=FieldFilter("user_id", "==", user_id))
            .order_by("updated_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        return [Book.model_validate(snapshot.to_dict()) for snapshot in query.stream()]

    def claim_request(self, request: KeptRequest) -> KeptRequest | None:
        reference = self._kept.document(document_id(request.user_id, request.key))
        fields = request.model_dump()
        for _ in range(TRANSITION_ATTEMPTS):
            try:
                reference.create(fields)
                return None
            except AlreadyExists:
                pass
            snapshot = reference.get()
            if not snapshot.exists:
                continue  # released meanwhile: try to make it again
            kept = KeptRequest.model_validate(snapshot.to_dict())
            if not kept.lapsed(request.created_at):
                return kept
            try:  # take over a lapsed key, only if nobody else did first
                reference.update(fields, option=self._client.write_option(last_update_time=snapshot.update_time))
                return None
            except FailedPrecondition:
                continue
        raise RuntimeError(f"{reference.path} kept changing under {TRANSITION_ATTEMPTS} attempts to hold it")

    def answer_request(self, user_id: str, key: str, status: int, body: str) -> None:
        self._kept.document(document_id(user_id, key)).update({"status": status, "body": body})

    def release_request(self, user_id: str, key: str) -> None:
        reference = self._kept.document(document_id(user_id, key))
        snapshot = reference.get()
        if snapshot.exists and snapshot.get("status") is None:
            with contextlib.suppress(FailedPrecondition):  # answered or taken meanwhile: leave it
                reference.delete(option=self._client.write_option(last_update_time=snapshot.update_time))

    def get_scene(self, scene_id: str) -> Scene | None:
        snapshot = self._scenes.document(scene_id).get()
        return Scene.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def add_dialogue_turn(self, scene_id: str, role: str, content: dict[str, Any]) -> None:
        self._scenes.document(scene_id).collection("turns").add(
            {"role": role, "content": content, "created_at": now(), "sequence": time.time_ns()}
        )

    def dialogue_turns(self, scene_id: str) -> list[dict[str, Any]]:
        turns = self._scenes.document(scene_id).collection("turns").order_by("sequence").stream()
        return [
            {"role": t.get("role"), "content": t.get("content"), "created_at": t.get("created_at").isoformat()}
            for t in turns
        ]

    def create_render(self, render: Render) -> None:
        self.ensure_user(render.user_id)
        self._renders.document(render.id).create(render.model_dump(mode="python") | {"spec": _json(render)})

    def get_render(self, render_id: str) -> Render | None:
        snapshot = self._renders.document(render_id).get()
        return _render(snapshot) if snapshot.exists else None

    def delete_render(self, render_id: str) -> None:
        self._renders.document(render_id).delete()

    def list_renders(self, user_id: str, limit: int = 50) -> list[Render]:
        query = (
            self._renders.where(filter=FieldFilter("user_id", "==", user_id))
            .order_by("created_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        return [_render(snapshot) for snapshot in query.stream()]

    def count_renders_since(self, user_id: str, since: datetime) -> int:
        query = self._renders.where(filter=FieldFilter("user_id", "==", user_id)).where(
            filter=FieldFilter("created_at", ">=", since)
        )
        return count(query)

    def count_renders(self, state: RenderState) -> int:
        return count(self._renders.where(filter=FieldFilter("state", "==", state)))

    def stale_renders(self, state: RenderState, before: datetime, limit: int = 100) -> list[Render]:
        since = "started_at" if state == "running" else "created_at"
        query = (
            self._renders.where(filter=FieldFilter("state", "==", state))
            .where(filter=FieldFilter(since, "<", before))
            .order_by(since)
            .limit(limit)
        )
        renders = [_render(snapshot) for snapshot in query.stream()]
        if state == "dispatching":  # made before `before`, and dispatched before it too (the trigger's
            # cap keeps a handful dispatching: no index of their own; one dispatched before the field: made)
            renders = [render for render in renders if (render.dispatched_at or render.created_at) < before]
        return renders

    def recent_render_times(self, limit: int = 1000) -> list[tuple[float, int]]:
        query = (
            self._renders.where(filter=FieldFilter("state", "==", "succeeded"))
            .order_by("finished_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
            .select(["timings.render_s", "spec.storyboard.clip_seconds", "reel"])
        )
        times = [(snapshot.to_dict() or {}) for snapshot in query.stream()]
        return [
            (fields["timings"]["render_s"], _clip_seconds(fields))
            for fields in times
            if fields.get("timings", {}).get("render_s") is not None and not fields.get("reel")
        ]

    def in_progress(self, limit: int = 500) -> list[QueueEntry]:
        query = (
            self._renders.where(filter=FieldFilter("state", "in", list(UNFINISHED)))
            .order_by("created_at")
            .limit(limit)
            .select(["user_id", "state", "created_at", "started_at", "spec.storyboard.clip_seconds", "reel"])
        )
        return [
            QueueEntry(
                render_id=snapshot.id,
                user_id=snapshot.get("user_id"),
                state=snapshot.get("state"),
                created_at=snapshot.get("created_at"),
                started_at=snapshot.get("started_at"),
                clip_seconds=_clip_seconds(snapshot.to_dict() or {}),
            )
            for snapshot in query.stream()
        ]

    def count_in_flight(self, user_id: str) -> int:
        mine = self._renders.where(filter=FieldFilter("user_id", "==", user_id))
        return sum(count(mine.where(filter=FieldFilter("state", "==", state))) for state in ("dispatching", "running"))

    def mark_dispatching(self, render_id: str) -> bool:
        return self._transition(
            render_id, lambda d: d["state"] == "queued", lambda d: {"state": "dispatching", "dispatched_at": now()}
        )

    def mark_running(self, render_id: str, attempt: int, runner: str) -> bool:
        return self._transition(
            render_id,
            lambda d: d["state"] in ("queued", "dispatching") or (d["state"] == "running" and d["attempts"] < attempt),
            lambda d: _started(attempt, runner, now()),
        )

    def report_progress(self, render_id: str, runner: str, stage: str, progress: float) -> bool:
        return self._transition(
            render_id,
            lambda d: _held_by(d, runner),
            lambda d: {"stage": stage, "progress": max(d["progress"], progress), "progress_at": now()},
        )

    def mark_succeeded(self, render_id: str, runner: str, artifacts: dict[str, str], timings: dict[str, float]) -> bool:
        return self._transition(
            render_id,
            lambda d: _held_by(d, runner),
            lambda d: {
                "state": "succeeded",
                "progress": 1.0,
                "stage": None,
                "error": None,
                "artifacts": artifacts,
                "timings": timings,
                "finished_at": now(),
            },
        )

    def mark_failed(self, render_id: str, error: str, runner: str | None = None) -> bool:
        return self._transition(
            render_id,
            lambda d: d["state"] in UNFINISHED and (runner is None or _held_by(d, runner)),
            lambda d: {"state": "failed", "stage": None, "error": error, "finished_at": now()},
        )

    def fail_unstarted(self, render_id: str, error: str) -> bool:
        return self._transition(
            render_id,
            lambda d: d["state"] == "queued" and not d.get("attempts"),
            lambda d: {"state": "failed", "error": error, "finished_at": now()},
        )

    def requeue(self, render_id: str, note: str | None = None, runner: str | None = None) -> bool:
        return self._transition(
            render_id,
            lambda d: d["state"] in ("dispatching", "running") and (runner is None or _held_by(d, runner)),
            lambda d: {"state": "queued", "progress": 0.0, "stage": None, "error": note, "runner": None},
        )

    def cancel(self, render_id: str) -> RenderState | None:
        seen: list[RenderState] = []  # the state each compare-and-set try read; the last one wrote

        def cancelled(document: Document) -> Document:
            seen.append(document["state"])
            return {"state": "cancelled", "stage": None, "finished_at": now()}

        return seen[-1] if self._transition(render_id, lambda d: d["state"] in UNFINISHED, cancelled) else None

    def _transition(
        self, render_id: str, allowed: Callable[[Document], bool], changes: Callable[[Document], Document]
    ) -> bool:
        written = compare_and_set(
            self._client,
            self._renders.document(render_id),
            lambda document: changes(document) if document is not None and allowed(document) else None,
        )
        return written is not None


def _started(attempt: int, runner: str, moment: datetime) -> Document:
    return {
        "state": "running",
        "attempts": attempt,
        "runner": runner,
        "progress": 0.0,
        "stage": "loading",
        "started_at": moment,
        "progress_at": moment,
        "error": None,
    }


def _held_by(document: Document, runner: str) -> bool:
    return document["state"] == "running" and document.get("runner") == runner


def _clip_seconds(fields: Document) -> int:
    """A render's seconds of clip to make from its selected fields: 0 for a reel (it joins
    clips already made), 15 for a spec from before clips had lengths."""
    if fields.get("reel"):
        return 0
    return fields.get("spec", {}).get("storyboard", {}).get("clip_seconds") or DEFAULT_CLIP_SECONDS


def _json(render: Render) -> Document:
    return render.spec.model_dump(mode="json")


def _user(snapshot: firestore.DocumentSnapshot) -> User:
    return User.model_validate((snapshot.to_dict() or {}) | {"id": snapshot.id})


def _render(snapshot: firestore.DocumentSnapshot) -> Render:
    document = snapshot.to_dict() or {}
    if isinstance(document.get("spec"), dict):  # validated when written: see stored_spec
        document["spec"] = stored_spec(json.dumps(document["spec"], sort_keys=True))
    return Render.model_validate(document | {"id": snapshot.id})
