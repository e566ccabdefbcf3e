"""Admission: whether a person may start a render now, and where a render stands.

- Plans: an account's plan (infra.domain.plan) sets its renders a day and the clip
  lengths it may render; without one, and for anonymous visitors, the free plan.
- Quotas that hold: a render takes one from every counter that limits its person
  (infra.counters), all at once or none: an account's daily count (its plan's); for an anonymous
  visitor both the cookie's and the client address's, so a fresh cookie earns nothing.
  Which counters it took is stored with the render; cancelling gives exactly those back,
  deleting gives nothing back (the render was started today all the same). A render
  cancelled once its job had started has used GPU time: its give-back counts against a
  daily allowance of give-backs as large as the quota, so starting and cancelling over
  and over cannot keep a GPU busy on one day's quota.
- The spend breaker: once the day's render spend (infra.spending) reaches the cap, new
  renders wait for 00:00 UTC, except an admin's; what is queued is still made.
- Where a render stands: its place in the round-robin queue and when it should start and
  finish (infra.domain.queueing), from measured render times and the renders made at once.
- Under load: when a new render would wait past the budget, it gets the fastest preset,
  unless the person asked to wait for theirs.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

from frontend_service.identity import Person
from infra.bootstrap import Adapters
from infra.counters import Contended, Limit
from infra.domain import queueing
from infra.domain.plan import Plan, free_plan
from infra.domain.presets import PresetName
from infra.domain.queueing import QueueEntry, Standing
from infra.domain.render import Render
from infra.domain.user import is_account
from infra.spending import MICRO_USD, day_ends, micro_usd, spent

log = logging.getLogger(__name__)

FASTEST_PRESET: PresetName = "draft"
#: The latest succeeded renders a typical render time is taken from.
MEASURED_RENDERS = 50
#: On Google Cloud, how long one instance reuses what it read of the queue and of the
#: measured times: each read is many Firestore documents, and every render page polls.
CLOUD_QUEUE_SNAPSHOT_S = 5.0
CLOUD_MEASUREMENTS_S = 60.0

Value = TypeVar("Value")


# The refusals carry what a person is told; the site (blueprints/errors.py) and the bot
# (telegram/texts.py) word it in the person's language.
class QuotaExceeded(Exception):
    """The person has started their daily renders."""

    def __init__(self, limit: int, resets_at: datetime):
        self.limit, self.resets_at = limit, resets_at


class SpendCapReached(Exception):
    """Today's render budget is spent: new renders wait for the next UTC day."""

    def __init__(self, resets_at: datetime):
        self.resets_at = resets_at


class Busy(Exception):
    """The person's counters changed under every attempt to count this request."""


class Admission:
    def __init__(self, adapters: Adapters):
        self._adapters = adapters
        self._settings = adapters.settings
        cloud = self._settings.mode == "cloud"
        self._queue = _Snapshot(adapters.records.in_progress, CLOUD_QUEUE_SNAPSHOT_S if cloud else 0.0)
        self._measured = _Snapshot(
            lambda: adapters.records.recent_render_times(MEASURED_RENDERS), CLOUD_MEASUREMENTS_S if cloud else 0.0
        )

    @property
    def parallel(self) -> int:
        """Renders made at once: one by the local worker, the trigger's cap on Google Cloud."""
        return self._settings.max_parallel_renders if self._settings.mode == "cloud" else 1

    def plan(self, user_id: str) -> Plan:
        """A person's plan: the one an admin assigned their account, else the free plan
        (an account's daily quota, or an anonymous visitor's)."""
        if not is_account(user_id):
            return free_plan(self._settings.anonymous_daily_render_quota)
        user = self._adapters.records.get_user(user_id)
        assigned = user and user.plan and self._adapters.records.get_plan(user.plan)
        return assigned or free_plan(self._settings.daily_render_quota)

    def limits(self, person: Person, moment: datetime) -> list[Limit]:
        """The counters a render by this person takes one from."""
        day, resets = moment.astimezone(UTC).date().isoformat(), day_ends(moment)
        if person.account:
            return [Limit(f"renders:{day}:user:{person.user_id}", self.plan(person.user_id).daily_renders, resets)]
        quota = self._settings.anonymous_daily_render_quota
        return [
            Limit(f"renders:{day}:user:{person.user_id}", quota, resets),
            Limit(f"renders:{day}:address:{person.address}", quota, resets),
        ]

    def renders_left(self, person: Person, moment: datetime) -> tuple[int, int]:
        """How many more renders this person may start today, and the day's quota: shown before *Render*."""
        limits = self.limits(person, moment)
        counters = self._adapters.counters
        left = min(max(limit.maximum - counters.value(limit.key), 0) for limit in limits)
        return left, min(limit.maximum for limit in limits)

    def check_spend(self, person: Person, moment: datetime) -> None:
        """Raises SpendCapReached when today's spend has reached the cap (admins pass)."""
        cap = self._settings.daily_spend_cap_usd
        if cap is None or person.admin:
            return
        today = spent(self._adapters.counters, moment)
        if today >= micro_usd(cap):
            log.warning(
                "spend breaker: refused a render; today's spend %.2f USD is at the cap of %.2f USD",
                today / MICRO_USD,
                cap,
            )
            raise SpendCapReached(day_ends(moment))

    def take_quota(self, person: Person, moment: datetime) -> list[str]:
        """Counts one render against every limit of the person, or raises QuotaExceeded and counts nothing."""
        limits = self.limits(person, moment)
        try:
            refused = self._adapters.counters.take(limits)
        except Contended as error:
            raise Busy(str(error)) from error
        if refused is not None:
            raise QuotaExceeded(refused.maximum, refused.expires_at)
        return [limit.key for limit in limits]

    def give_back(self, render: Render, person: Person | None = None) -> bool:
        """A cancelled render's quota goes back to the counters it came from: always when
        it never left the queue; when its job had started (`person` given), only while the
        person's give-backs of the day last. True when given back."""
        if not render.quota:  # a book's reel takes none: nothing to give back, nothing to count
            return True
        counters = self._adapters.counters
        try:
            if person is not None:
                limits = [
                    Limit(f"give-backs:{limit.key}", limit.maximum, limit.expires_at)
                    for limit in self.limits(person, render.created_at)
                    if limit.key in render.quota
                ]
                # None of the counters it took are this person's now: they signed in since (the
                # render moved to the account), so no allowance of theirs can count this give-back,
                # and giving it back uncounted would let sign-in, cancel, sign-out repeat forever.
                if not limits:
                    log.warning(
                        "render %s cancelled after it started, by a person it no longer counts against", render.id
                    )
                    return False
                if counters.take(limits) is not None:
                    log.warning("render %s cancelled after it started: no give-back left today", render.id)
                    return False
            counters.give_back(render.quota)
        except Exception:  # the render is cancelled all the same; the person loses one render of today
            log.exception("could not give back the quota of cancelled render %s", render.id)
            return False
        return True

    def preset_for(self, person: Person, chosen: PresetName, keep: bool, moment: datetime) -> PresetName:
        """The preset a new render gets: the fastest when it would wait past the budget and
        the person did not ask to keep theirs."""
        budget = self._settings.render_wait_budget_s
        if keep or budget <= 0 or chosen == FASTEST_PRESET:
            return chosen
        wait = queueing.wait_for_new(self._queue.get(), person.user_id, self.typical_seconds(), self.parallel, moment)
        return FASTEST_PRESET if wait is not None and wait > budget else chosen

    def typical_seconds(self) -> float | None:
        return queueing.typical_seconds(self._measured.get())

    def standing(self, render: Render, moment: datetime) -> Standing | None:
        """Where an unfinished render stands; None for a finished one."""
        if render.state in ("succeeded", "failed", "cancelled"):
            return None
        entries = [entry for entry in self._queue.get() if entry.render_id != render.id]
        # The render as it is now (a snapshot may be a few seconds old).
        entries.append(
            QueueEntry(
                render.id,
                render.user_id,
                render.state,
                render.created_at,
                render.started_at,
                render.animation_seconds(),
            )
        )
        return queueing.standing(entries, render.id, self.typical_seconds(), self.parallel, moment)

    def forget_queue(self) -> None:
        """The queue just changed here (a render started or cancelled): read it afresh next time."""
        self._queue.clear()


class _Snapshot(Generic[Value]):
    """A value read at most every `ttl_s` seconds (0: every time)."""

    def __init__(self, read: Callable[[], Value], ttl_s: float):
        self._read, self._ttl_s = read, ttl_s
        self._value: tuple[float, Value] | None = None

    def get(self) -> Value:
        if self._ttl_s <= 0:
            return self._read()
        cached = self._value
        if cached is None or clock.monotonic() - cached[0] > self._ttl_s:
            cached = self._value = (clock.monotonic(), self._read())
        return cached[1]

    def clear(self) -> None:
        self._value = None
