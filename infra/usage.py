"""Usage events: one per language-model call, render and download, for cost reports.

The fields follow the BigQuery table the cloud side loads (issue: usage and cost).
Events are at least once: a sink may store one twice, and every report dedupes by
event_id. On one machine nothing is billed, so local events cost 0 and say so in
`pricing`; the cloud's pricing table fills `cost_usd` there.
"""

from __future__ import annotations

import abc
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer

from infra.records import new_id, now

UsageKind = Literal["dialogue_turn", "moderation", "render", "download", "rating"]
LOCAL_PRICING = "local-unbilled"


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
    pricing: str = LOCAL_PRICING
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_serializer("attributes")
    def _attributes_as_json(self, value: dict[str, Any]) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)


class UsageSink(abc.ABC):
    @abc.abstractmethod
    def record(self, event: UsageEvent) -> None:
        """Stores or sends one event; must not lose it silently."""
