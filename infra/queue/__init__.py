"""The render queue port: how the website asks for a render to be made.

On Google Cloud a request is a Pub/Sub message that a trigger turns into a Cloud
Run job execution. On one machine it is a row in a durable SQLite table that the
local worker claims (infra.queue.sqlite, infra.local_worker). Delivery is at least
once either way; the records' status transitions make a second delivery harmless.
"""

from __future__ import annotations

import abc


class RenderQueue(abc.ABC):
    @abc.abstractmethod
    def submit(self, render_id: str) -> None:
        """Asks for the render to be made; returns once the request is durable."""

    @abc.abstractmethod
    def withdraw(self, render_id: str) -> None:
        """The render was cancelled: a request not yet delivered need not be. (One being
        delivered ends on its own: the job finds the render cancelled.)"""

    @abc.abstractmethod
    def depth(self) -> int:
        """Requests waiting or in progress."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raises when requests cannot be submitted now (readiness)."""
