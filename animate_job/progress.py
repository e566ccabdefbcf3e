"""Render progress as one number from 0 to 1, with the stage it is in.

The stages take very different shares of a render's time; weighting them keeps a
progress bar moving at a steady pace instead of jumping at the end. Reports are
throttled, because each one may become a database write.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: (stage, share of the whole render) in the order they happen.
STAGES = (("loading", 0.05), ("denoising", 0.80), ("decoding", 0.10), ("encoding", 0.05))
#: A book's reel loads no model and draws nothing: it only joins clips (animate_job/reel.py).
REEL_STAGES = (("joining", 1.0),)

ProgressCallback = Callable[[str, float], None]


class Progress:
    """Turns (stage, fraction of that stage) into overall progress for a callback."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        min_interval_s: float = 0.5,
        clock=time.monotonic,
        stages: tuple[tuple[str, float], ...] = STAGES,
    ):
        self._callback = callback
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._last_time: float | None = None
        self._last_stage: str | None = None
        self._starts = {}
        start = 0.0
        for stage, share in stages:
            self._starts[stage] = (start, share)
            start += share

    def report(self, stage: str, fraction: float) -> None:
        if self._callback is None:
            return
        start, share = self._starts[stage]
        overall = min(1.0, start + share * max(0.0, min(1.0, fraction)))
        now = self._clock()
        # Always report a new stage and the very end; in between, at most every interval.
        due = (
            stage != self._last_stage
            or overall >= 1.0
            or self._last_time is None
            or now - self._last_time >= self._min_interval_s
        )
        if due:
            self._last_time, self._last_stage = now, stage
            self._callback(stage, overall)
