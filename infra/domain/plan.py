"""Plans: what an account may render, as data. A plan names the clip lengths it allows
and its renders a day; an admin stores plans and assigns one to an account (no payment
provider yet). Everyone without one (and every anonymous visitor) is on the free plan:
15-second clips and the site's daily quota, built from the settings, never stored.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from infra.domain.presets import CLIP_LENGTHS, DEFAULT_CLIP_SECONDS, ClipSeconds
from infra.domain.storyboard import custom_error

FREE_PLAN = "free"
MAX_DAILY_RENDERS = 1000
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(
        description="lower-case letters, digits, hyphens and underscores, up to 40 (the plan's name in the records)",
    )
    clip_seconds: tuple[ClipSeconds, ...] = Field(
        min_length=1, max_length=len(CLIP_LENGTHS), description="the clip lengths allowed, in seconds: 15, 30, 60"
    )
    daily_renders: int = Field(strict=True, ge=1, le=MAX_DAILY_RENDERS, description="renders a UTC day")

    @field_validator("name")
    @classmethod
    def _a_name_for_addresses(cls, name: str) -> str:
        if not _NAME.fullmatch(name):
            raise custom_error("plan_name")
        return name

    @field_validator("clip_seconds")
    @classmethod
    def _every_plan_has_the_standard_clip(cls, lengths: tuple[int, ...]) -> tuple[int, ...]:
        # The editor and the dialogue start every storyboard at 15 s: a plan without it
        # would refuse the drafts it is given.
        if DEFAULT_CLIP_SECONDS not in lengths:
            raise custom_error("plan_without_standard_clip", length=DEFAULT_CLIP_SECONDS)
        return tuple(sorted(set(lengths)))


def free_plan(daily_renders: int) -> Plan:
    """The plan of everyone not assigned one: 15-second clips, the site's daily quota."""
    return Plan.model_construct(name=FREE_PLAN, clip_seconds=(DEFAULT_CLIP_SECONDS,), daily_renders=daily_renders)
