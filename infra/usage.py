"""Usage events: one per language-model call, render attempt, download and vote.

The fields are the BigQuery table's (infra/bigquery/usage_events.schema.json), and a
test holds the two together. Events are at least once: a sink may store one twice,
and every view dedupes by event_id. Whoever makes an event prices it from
infra.pricing, on one machine too: there the cost says what the same work would cost
on Google Cloud.
"""

from __future__ import annotations

import abc
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer

from infra.pricing import PRICING_VERSION
from infra.records import new_id, now

UsageKind = Literal["dialogue_turn", "moderation", "render", "download", "rating"]


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

    @field_serializer("attributes")
    def _attributes_as_json(self, value: dict[str, Any]) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)


class UsageSink(abc.ABC):
    @abc.abstractmethod
    def record(self, event: UsageEvent) -> None:
        """Stores or sends one event; must not lose it silently."""
