"""The records port: users, scenes and renders, and a render's status transitions.

A render moves queued -> running -> succeeded | failed; on Google Cloud it passes
through dispatching (a job execution is being started for it) between queued and
running; until it has finished, its owner may cancel it. Every transition is one
conditional write, so two workers (or two deliveries of one request) can never both
start, finish or fail the same render: the loser's write changes nothing and says so.

An attempt is fenced: `mark_running` stores a token of the attempt's own (the
runner), and every later write of that attempt names it. When a newer attempt has
taken the render over, the old one's writes change nothing, so it stops and leaves the
render to the new one.
SQLite is the embedded adapter (infra.records.sqlite); Firestore the cloud one
(infra.records.firestore).
"""

from __future__ import annotations

import abc
import functools
from datetime import datetime
from typing import Any

from infra.domain.book import Book
from infra.domain.idempotency import KeptRequest
from infra.domain.plan import Plan
from infra.domain.queueing import QueueEntry
from infra.domain.render import Render, RenderState
from infra.domain.scene import Scene
from infra.domain.storyboard import RenderSpec
from infra.domain.user import User


@functools.lru_cache(maxsize=2048)
def stored_spec(stored: str) -> RenderSpec:
    """A render's spec from the JSON it was stored as. A spec is validated in full when its
    render is made (token estimates, the text checks, the shots) and never changes after,
    so each stored text is validated once per process and trusted on every later read:
    the render page asks for its render's status every second or so. The spec is frozen,
    so one object serves every read."""
    return RenderSpec.model_validate_json(stored)


class Records(abc.ABC):
    """Where users, scenes and renders are kept."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raises when the records cannot be written or read now (readiness)."""

    @abc.abstractmethod
    def ensure_user(self, user_id: str) -> None:
        """Makes a bare record of the user unless there is one (its created_at stays)."""

    @abc.abstractmethod
    def get_user(self, user_id: str) -> User | None: ...

    @abc.abstractmethod
    def save_user(self, user: User) -> None:
        """Creates the user whole, or updates who they are (account, email, name) and keeps
        what only an admin changes (publishing_blocked) and created_at."""

    @abc.abstractmethod
    def set_chat(self, user_id: str, *, language: str | None = None, scene: str | None = None) -> None:
        """A chat front remembers a person's language and the scene the chat is on (a record
        is made when there is none); what is given replaces what was, None leaves it."""

    @abc.abstractmethod
    def set_publishing_blocked(self, user_id: str, blocked: bool) -> User:
        """An admin stops an account from publishing, or lets it again (a record is made
        when there is none)."""

    @abc.abstractmethod
    def set_plan(self, user_id: str, plan: str | None) -> User | None:
        """An admin puts an account on a plan (None: back to the free plan). Only a user the
        records know is changed; None when there is none. Signing in keeps the plan."""

    @abc.abstractmethod
    def save_plan(self, plan: Plan) -> None:
        """Creates a plan or replaces it whole (the accounts on it get the new terms)."""

    @abc.abstractmethod
    def get_plan(self, name: str) -> Plan | None: ...

    @abc.abstractmethod
    def plans(self) -> list[Plan]:
        """Every stored plan, by name."""

    @abc.abstractmethod
    def users_on_plans(self, limit: int = 200) -> list[User]:
        """The users on a plan other than the free one, by id."""

    @abc.abstractmethod
    def users_blocked_from_publishing(self, limit: int = 200) -> list[User]: ...

    @abc.abstractmethod
    def transfer_work(self, from_user: str, to_user: str) -> int:
        """Gives one user's scenes, renders and books to another: an anonymous person who signs
        in keeps what they made. The number of scenes and renders moved."""

    @abc.abstractmethod
    def save_scene(self, scene: Scene) -> None:
        """Creates or replaces a scene whole."""

    @abc.abstractmethod
    def replace_scene(self, scene: Scene, version: int) -> bool:
        """Stores the scene whole only if the stored one is still at `version` (the caller
        has raised the new one's): a compare-and-set, so of two saves from the same version
        one wins and the other is told (False), never silently lost."""

    @abc.abstractmethod
    def get_scene(self, scene_id: str) -> Scene | None: ...

    @abc.abstractmethod
    def save_book(self, book: Book) -> None:
        """Creates or replaces a book project whole."""

    @abc.abstractmethod
    def replace_book(self, book: Book, version: int) -> bool:
        """Stores the book whole only if the stored one is still at `version`: a
        compare-and-set, as replace_scene, so two edits never silently lose one."""

    @abc.abstractmethod
    def get_book(self, book_id: str) -> Book | None: ...

    @abc.abstractmethod
    def list_books(self, user_id: str, limit: int = 50) -> list[Book]:
        """A user's books, the latest changed first."""

    @abc.abstractmethod
    def claim_request(self, request: KeptRequest) -> KeptRequest | None:
        """Holds a person's Idempotency-Key for this request, in one atomic step: None when
        the caller now holds it (no request kept under the key, or the kept one expired, or
        was left unanswered since before ABANDONED_AFTER), else the request kept under it."""

    @abc.abstractmethod
    def answer_request(self, user_id: str, key: str, status: int, body: str) -> None:
        """Keeps the first answer to a held key, for repeats."""

    @abc.abstractmethod
    def release_request(self, user_id: str, key: str) -> None:
        """Lets a held key go unanswered (the request failed): the same key may be sent again."""

    @abc.abstractmethod
    def add_dialogue_turn(self, scene_id: str, role: str, content: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def dialogue_turns(self, scene_id: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def create_render(self, render: Render) -> None: ...

    @abc.abstractmethod
    def get_render(self, render_id: str) -> Render | None: ...

    @abc.abstractmethod
    def delete_render(self, render_id: str) -> None:
        """Forgets a render (its stored files are the caller's to delete)."""

    @abc.abstractmethod
    def list_renders(self, user_id: str, limit: int = 50) -> list[Render]:
        """A user's renders, newest first."""

    @abc.abstractmethod
    def count_renders_since(self, user_id: str, since: datetime) -> int: ...

    @abc.abstractmethod
    def count_renders(self, state: RenderState) -> int: ...

    @abc.abstractmethod
    def stale_renders(self, state: RenderState, before: datetime, limit: int = 100) -> list[Render]:
        """Renders in `state` since before `before`: created then, for queued; dispatched then,
        for dispatching (its job has been starting that long); started then, for running. The
        sweeper's query."""

    @abc.abstractmethod
    def recent_render_times(self, limit: int = 1000) -> list[tuple[float, int]]:
        """The latest succeeded clips, newest first: how long each took to make (queue time
        not counted), and how long its clip is in seconds (15 for a spec from before clips
        had lengths). A book's reel is not among them: joining clips is not making one."""

    @abc.abstractmethod
    def in_progress(self, limit: int = 500) -> list[QueueEntry]:
        """Unfinished renders (queued, dispatching, running), oldest first: the queue as
        the estimates of where a render stands see it. A book's reel has 0 seconds of clip
        to make (it joins clips already made: seconds to a minute)."""

    @abc.abstractmethod
    def count_in_flight(self, user_id: str) -> int:
        """A person's renders dispatching or running: the trigger's per-person cap."""

    @abc.abstractmethod
    def mark_dispatching(self, render_id: str) -> bool:
        """queued -> dispatching: only one delivery of a request may start a job for it."""

    @abc.abstractmethod
    def mark_running(self, render_id: str, attempt: int, runner: str) -> bool:
        """queued | dispatching -> running, or a running render taken over by a later
        attempt; `runner` is the attempt's token, which its later writes name."""

    @abc.abstractmethod
    def report_progress(self, render_id: str, runner: str, stage: str, progress: float) -> bool:
        """False when the render is no longer this runner's: the attempt should stop."""

    @abc.abstractmethod
    def mark_succeeded(
        self, render_id: str, runner: str, artifacts: dict[str, str], timings: dict[str, float]
    ) -> bool: ...

    @abc.abstractmethod
    def mark_failed(self, render_id: str, error: str, runner: str | None = None) -> bool:
        """An unfinished render -> failed, with a reason a person can act on; with a
        runner, only while that attempt still holds it."""

    @abc.abstractmethod
    def fail_unstarted(self, render_id: str, error: str) -> bool:
        """queued -> failed, for a render whose request could not start a job and which no job
        ever started. False otherwise: a copy of its request started it meanwhile (it is left
        running), or an attempt ran and it waits for the job's retry (its GPU time was spent)."""

    @abc.abstractmethod
    def requeue(self, render_id: str, note: str | None = None, runner: str | None = None) -> bool:
        """dispatching | running -> queued, for another attempt; with a runner, only while
        that attempt still holds it."""

    @abc.abstractmethod
    def cancel(self, render_id: str) -> RenderState | None:
        """queued | dispatching | running -> cancelled, in one step: the state it was
        cancelled from (with its attempts, whether a job had started decides its quota's
        give-back), or None when the render had already finished. A running attempt's later writes then change
        nothing (its progress reports fail), so it stops."""
