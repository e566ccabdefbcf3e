"""The usage port: where usage events (infra.domain.usage) go.

Recording usage must never fail a person's request: `UsageSink.record` never raises.
An event its adapter could not send is kept in memory and sent again in the
background; what is still unsent when the process ends is written to the log whole,
at severity ERROR, so it can be replayed from there and is never silently lost.
"""

from __future__ import annotations

import abc
import atexit
import collections
import logging
import threading
import time

from infra.domain.usage import UsageEvent

log = logging.getLogger(__name__)


class UsageNotReady(RuntimeError):
    """Usage events are not getting through; the message says since when."""


class UsageSink(abc.ABC):
    """Where usage events go. `record` never raises and returns quickly; an adapter
    implements `_send`, which may raise, and the base keeps and retries what failed."""

    #: Unsent events kept in memory; beyond this the oldest are written to the log.
    MAX_BACKLOG = 10_000
    #: Events unsent for longer than this make the sink not ready (see `check`).
    STUCK_AFTER_S = 60.0

    def __init__(self, retry_every_s: float = 2.0):
        self._retry_every_s = retry_every_s
        self._backlog: collections.deque[UsageEvent] = collections.deque()
        self._oldest_unsent: float | None = None
        self._lock = threading.Lock()
        self._retrying = threading.Lock()  # one resend at a time: the retrier's or flush's
        self._retrier: threading.Thread | None = None
        self._wake = threading.Event()
        self._exit_hook = False

    def record(self, event: UsageEvent) -> None:
        """Stores or sends one event, or keeps it to try again; never raises."""
        self._flush_at_exit()
        try:
            self._send(event)
        except Exception as error:  # a usage store in trouble must not fail the person's request
            log.warning(
                "usage event %s not recorded yet (%s: %s); will retry", event.event_id, type(error).__name__, error
            )
            self._keep(event)

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Sends what is waiting, for at most `timeout_s`; True when nothing is left.
        Whatever is still unsent afterwards is written to the log whole."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._retry_backlog()
            self._wait_sent(max(0.0, deadline - time.monotonic()))
            if not self._backlog or time.monotonic() >= deadline:
                break
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        unsent = list(self._backlog) + self._abandon_unconfirmed()
        if not unsent:
            return True
        self._give_up_on(unsent)
        self._backlog.clear()
        return False

    def check(self) -> None:
        """Raises UsageNotReady when events have been failing for a while (readiness)."""
        oldest = self._oldest_unsent
        if oldest is not None and time.monotonic() - oldest > self.STUCK_AFTER_S:
            raise UsageNotReady(f"{len(self._backlog)} usage events unsent for {time.monotonic() - oldest:.0f} s")
        self._check_store()

    @abc.abstractmethod
    def _send(self, event: UsageEvent) -> None:
        """Stores or hands over one event; raises when it cannot."""

    def _check_store(self) -> None:
        """Raises when the store cannot take events now (a cheap probe)."""
        return None

    def _wait_sent(self, timeout_s: float) -> None:
        """Waits for events handed over but not yet confirmed (an adapter that sends
        in the background); confirmed failures come back through `_keep`."""
        return None

    def _abandon_unconfirmed(self) -> list[UsageEvent]:
        """Events handed over whose sending is still unconfirmed, given up on: a failure
        that comes back for one of them later is not kept again (it is logged once, here)."""
        return []

    # -- the backlog ------------------------------------------------------------------

    def _keep(self, event: UsageEvent) -> None:
        with self._lock:
            self._backlog.append(event)
            if self._oldest_unsent is None:
                self._oldest_unsent = time.monotonic()
            overflow = [self._backlog.popleft() for _ in range(len(self._backlog) - self.MAX_BACKLOG)]
            if self._retrier is None:
                self._retrier = threading.Thread(target=self._retry_loop, name="usage-retry", daemon=True)
                self._retrier.start()
        if overflow:
            self._give_up_on(overflow)
        self._wake.set()

    def _flush_at_exit(self) -> None:
        if not self._exit_hook:
            self._exit_hook = True
            atexit.register(self.flush, 5.0)

    def _retry_loop(self) -> None:
        while True:
            self._wake.wait(self._retry_every_s)
            self._wake.clear()
            self._retry_backlog()
            with self._lock:  # decided under the lock `_keep` starts a retrier under
                if not self._backlog:
                    self._retrier = None
                    return

    def _retry_backlog(self) -> None:
        with self._retrying:
            self._resend()

    def _resend(self) -> None:
        while True:
            with self._lock:
                if not self._backlog:
                    self._oldest_unsent = None
                    return
                event = self._backlog[0]
            try:
                self._send(event)
            except Exception:
                return  # still failing: the retrier tries again later
            with self._lock:
                if self._backlog and self._backlog[0] is event:
                    self._backlog.popleft()

    @staticmethod
    def _give_up_on(events: list[UsageEvent]) -> None:
        for event in events:
            log.error(
                "usage event not recorded: %s",
                event.event_id,
                extra={"fields": {"unrecorded_usage_event": event.model_dump(mode="json")}},
            )
