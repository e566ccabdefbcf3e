"""One render of a frozen spec, and its status.

A render moves queued -> running -> succeeded | failed; on Google Cloud it passes
through dispatching (a job execution is being started for it) between queued and
running. Its owner may cancel it until it has finished: queued, dispatching or
running -> cancelled. Each attempt at it holds a token of its own (the runner) while it
runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from infra.domain.ids import new_id, now
from infra.domain.presets import PresetName
from infra.domain.reel import Reel
from infra.domain.storyboard import RenderSpec

RenderState = Literal["queued", "dispatching", "running", "succeeded", "failed", "cancelled"]
FINISHED: tuple[RenderState, ...] = ("succeeded", "failed", "cancelled")
UNFINISHED: tuple[RenderState, ...] = ("queued", "dispatching", "running")


class Render(BaseModel):
    """One render of a frozen spec, and its status."""

    id: str = Field(default_factory=new_id)
    user_id: str
    scene_id: str | None = None
    spec: RenderSpec
    state: RenderState = "queued"
    progress: float = 0.0
    stage: str | None = None
    error: str | None = None
    attempts: int = 0
    #: The token of the attempt that holds the render while it runs (see Records.mark_running).
    runner: str | None = None
    artifacts: dict[str, str] = Field(default_factory=dict)  # name -> storage key
    timings: dict[str, float] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=now)
    #: When a delivery of its request began starting its job (queued -> dispatching): how long a
    #: dispatching render has waited for its job, which the sweeper judges (not how long it queued).
    dispatched_at: datetime | None = None
    started_at: datetime | None = None
    #: When the running attempt last said how far it is: how long a killed attempt ran.
    progress_at: datetime | None = None
    finished_at: datetime | None = None
    #: The quota counters this render took (infra.counters): cancelling gives back exactly these.
    quota: list[str] = Field(default_factory=list)
    #: The preset the person chose, when a long queue gave the render a faster one instead.
    requested_preset: PresetName | None = None
    #: A book's reel: the job joins these finished clips with title cards instead of rendering
    #: (its spec is the first clip's, at the reel's length).
    reel: Reel | None = None

    def animation_seconds(self) -> int:
        """The seconds of new animation it makes: its clip's length; none for a reel, which
        joins clips already made (and counted). A method, not a property: mutmut leaves
        decorated functions unmutated."""
        return 0 if self.reel else self.spec.storyboard.clip_seconds
