"""Usage events: one per language-model call, render attempt, download and vote, and one
per change of a Telegram channel post's reactions.

The fields are the BigQuery table's (infra/bigquery/usage_events.schema.json), and a
test holds the two together. Events are at least once: a sink may store one twice,
and every view dedupes by event_id. Whoever makes an event prices it from
infra.domain.pricing, on one machine too: there the cost says what the same work would
cost on Google Cloud.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer

from infra.domain.ids import new_id, now
from infra.domain.pricing import PRICING_VERSION, render_cost
from infra.domain.render import Render

UsageKind = Literal["dialogue_turn", "moderation", "render", "download", "rating", "channel_reaction"]


class UsageEvent(BaseModel):
    event_id: str = Field(default_factory=new_id)
    event_ts: datetime = Field(default_factory=now)
    kind: UsageKind
    user_id: str | None = None
    scene_id: str | None = None
    render_id: str | None = None
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    frames: int | None = None
    gpu_seconds: float | None = None
    wall_seconds: float | None = None
    status: str | None = None
    cost_usd: float = 0.0
    pricing_version: str = PRICING_VERSION
    attributes: dict[str, Any] = Field(default_factory=dict)
    #: A channel_reaction: the Telegram channel, its post, the post's 👍 and 👎 counts then
    #: (totals, not changes) and the channel's subscribers then (getChatMemberCount).
    channel_id: str | None = None
    post_id: int | None = None
    likes: int | None = None
    dislikes: int | None = None
    subscribers: int | None = None
    #: A render attempt: the clip's length in seconds (what "a second of animation" counts).
    clip_seconds: int | None = None

    @field_serializer("attributes")
    def _attributes_as_json(self, value: dict[str, Any]) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)


def render_attempt_event(render: Render, wall_seconds: float, status: str, device: str | None) -> UsageEvent:
    """One attempt at a render, priced as a Cloud Run job of its length (GPU time only on
    a GPU). Its id is the attempt's runner token, so the job and a worker that records a
    killed attempt on its behalf make the same event, which the views count once."""
    gpu_seconds = wall_seconds if device == "cuda" else 0.0
    return UsageEvent(
        event_id=f"render-attempt-{render.runner}" if render.runner else new_id(),
        kind="render",
        user_id=render.user_id,
        scene_id=render.scene_id,
        render_id=render.id,
        model=render.spec.base_model,
        frames=render.spec.frames,
        # A reel joins clips already made: no new seconds of animation (and not None, which
        # the views read as an event from before clips had lengths: 15 s).
        clip_seconds=render.animation_seconds(),
        wall_seconds=wall_seconds,
        gpu_seconds=gpu_seconds,
        status=status,
        cost_usd=render_cost(wall_seconds, gpu_seconds),
        attributes={"preset": render.spec.preset, "device": device, "attempt": render.attempts},
    )
