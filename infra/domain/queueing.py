"""Fair turns and waiting times for renders.

Turns are round-robin across people: a waiting render's turn is how many of its owner's
renders are ahead of it (waiting or in progress), and the queue serves turn 0 of every
person before anyone's turn 1, and so on; within a turn, the oldest first. One person's
hundred renders therefore hold anyone else's back by at most one. The local queue
claims in this order (infra.queue.sqlite does it in SQL); both sides say where a render
stands with it.

A wait is estimated from measured render times and the renders made at once (the
parallelism): each slot frees when its render is due to finish, and each render ahead
takes the next free slot for its own length's time. Times are measured per clip and
counted as a 15-second clip's: a typical render of a 15-second clip takes the median of
them, and a clip of n seconds takes n/15 of that (its frames are what take the time).
"""

from __future__ import annotations

import heapq
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from infra.domain.presets import DEFAULT_CLIP_SECONDS
from infra.domain.render import RenderState


@dataclass(frozen=True)
class QueueEntry:
    """An unfinished render, as much as its place in the queue needs."""

    render_id: str
    user_id: str
    state: RenderState
    created_at: datetime
    started_at: datetime | None = None
    #: How long its clip is: a 60-second clip takes four times a 15-second one's time.
    clip_seconds: int = DEFAULT_CLIP_SECONDS


@dataclass(frozen=True)
class Standing:
    """Where one render stands: how many go before it, and when it should start and finish."""

    position: int  # renders that start before this one (0: it is next, or already started)
    start: datetime | None  # None: nothing has been measured yet to estimate from
    finish: datetime | None


def turns(entries: Sequence[QueueEntry]) -> list[QueueEntry]:
    """The waiting (queued) renders in the order they are served."""
    seen: Counter[str] = Counter()
    keyed = []
    for entry in sorted(entries, key=lambda e: (e.created_at, e.render_id)):
        if entry.state == "queued":
            keyed.append(((seen[entry.user_id], entry.created_at, entry.render_id), entry))
        seen[entry.user_id] += 1
    return [entry for _, entry in sorted(keyed, key=lambda pair: pair[0])]


def typical_seconds(measured: Sequence[tuple[float, int]]) -> float | None:
    """A typical 15-second clip's render time (None before any measurement): the median of
    the latest renders' seconds, each as if its clip were 15 seconds long."""
    if not measured:
        return None
    return statistics.median(seconds * DEFAULT_CLIP_SECONDS / clip_seconds for seconds, clip_seconds in measured)


def _takes(entry: QueueEntry, typical_s: float) -> float:
    """How long the render is expected to take: a typical 15-second clip's time, by its length."""
    return typical_s * entry.clip_seconds / DEFAULT_CLIP_SECONDS


def standing(
    entries: Sequence[QueueEntry], render_id: str, typical_s: float | None, parallel: int, moment: datetime
) -> Standing | None:
    """Where a render stands among the unfinished ones; None when it is not among them."""
    mine = next((entry for entry in entries if entry.render_id == render_id), None)
    if mine is None:
        return None
    in_progress = [entry for entry in entries if entry.state in ("dispatching", "running")]
    if mine.state != "queued":
        if typical_s is None:
            return Standing(0, mine.started_at or moment, None)
        return Standing(0, mine.started_at or moment, moment + timedelta(seconds=_remaining(mine, typical_s, moment)))
    order = turns(entries)
    position = [entry.render_id for entry in order].index(render_id)
    if typical_s is None:
        return Standing(position, None, None)
    start_s = _start_after(
        [_remaining(entry, typical_s, moment) for entry in in_progress],
        [_takes(entry, typical_s) for entry in order[:position]],
        parallel,
    )
    finish_s = start_s + _takes(mine, typical_s)
    return Standing(position, moment + timedelta(seconds=start_s), moment + timedelta(seconds=finish_s))


def wait_for_new(
    entries: Sequence[QueueEntry], user_id: str, typical_s: float | None, parallel: int, moment: datetime
) -> float | None:
    """Seconds until a render this person starts now would start (None before any measurement)."""
    new = QueueEntry(render_id="(new)", user_id=user_id, state="queued", created_at=moment)
    place = standing([*entries, new], new.render_id, typical_s, parallel, moment)
    if place is None or place.start is None:
        return None
    return (place.start - moment).total_seconds()


def _remaining(entry: QueueEntry, typical_s: float, moment: datetime) -> float:
    """A render in progress is due to finish its expected time after it started."""
    if entry.started_at is None:  # dispatching: its job is starting
        return _takes(entry, typical_s)
    return max(_takes(entry, typical_s) - (moment - entry.started_at).total_seconds(), 0.0)


def _start_after(remaining: list[float], ahead: list[float], parallel: int) -> float:
    """When a render starts after the waiting renders `ahead` (their expected times, in
    turn), with `parallel` slots and the renders in progress `remaining` seconds from done."""
    parallel = max(parallel, 1)
    # More in progress than slots (the cap was lowered): a slot frees only once enough have finished.
    slots = sorted(remaining + [0.0] * max(parallel - len(remaining), 0))[max(len(remaining) - parallel, 0) :]
    heapq.heapify(slots)
    for takes in ahead:
        heapq.heappush(slots, heapq.heappop(slots) + takes)
    return slots[0]
