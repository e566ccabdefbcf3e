"""The counters port: numbers every instance of the site shares, for quotas, rate limits
and the day's render spend.

A counter has a key, a whole-number value and a moment it expires: from then on it
reads 0 and the next write starts it again (a daily quota's counter expires at the end
of its day, a rate limit's at the end of its window). `take` adds to several counters
at once only if none would pass its maximum, in one atomic step, so parallel requests
can never both take the last unit, and a refusal leaves every counter as it was.
SQLite is the embedded adapter (infra.counters.sqlite); Firestore the cloud one
(infra.counters.firestore).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Limit:
    """At most `maximum` on the counter `key`, which expires at `expires_at` (when made)."""

    key: str
    maximum: int
    expires_at: datetime


class Contended(Exception):
    """A counter kept changing under every attempt to write it: too many writers at once."""


class Counters(abc.ABC):
    @abc.abstractmethod
    def take(self, limits: Sequence[Limit], amount: int = 1) -> Limit | None:
        """Adds `amount` to every limit's counter if none would pass its maximum, else to
        none. Answers None when taken, else the (first) limit that refused. A counter
        made by this take, or expired before it, gets its limit's `expires_at`."""

    @abc.abstractmethod
    def give_back(self, keys: Sequence[str], amount: int = 1) -> None:
        """Takes `amount` off each live counter, never below 0; an expired or missing
        counter stays as it is (a give-back never lands in a later window)."""

    @abc.abstractmethod
    def add(self, key: str, amount: int, expires_at: datetime) -> int:
        """Adds to a counter with no maximum and answers its new value; a counter made
        now (or expired) gets `expires_at`, a live one keeps its own."""

    @abc.abstractmethod
    def value(self, key: str) -> int:
        """The counter's value: 0 when it is missing or expired."""

    @abc.abstractmethod
    def expires_at(self, key: str) -> datetime | None:
        """When a live counter expires; None when it is missing or expired."""

    @abc.abstractmethod
    def clear(self, key: str) -> None:
        """Forgets a counter."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raises when the counters cannot be written or read now (readiness)."""


def distinct(limits: Sequence[Limit]) -> None:
    """A take names each counter once: twice would count one request double."""
    keys = [limit.key for limit in limits]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a take names a counter more than once: {keys}")
