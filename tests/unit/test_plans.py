"""Plans as data: what each allows, and the free plan everyone without one is on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infra.domain.plan import FREE_PLAN, Plan, free_plan


def test_a_plan_keeps_its_lengths_sorted_once():
    assert Plan(name="studio", clip_seconds=(60, 15, 30), daily_renders=50).clip_seconds == (15, 30, 60)
    assert Plan(name="studio", clip_seconds=(15, 15), daily_renders=50).clip_seconds == (15,)


def test_the_free_plan_is_fifteen_seconds_at_the_quota_given():
    assert free_plan(20) == Plan(name=FREE_PLAN, clip_seconds=(15,), daily_renders=20)
    assert free_plan(0).daily_renders == 0  # a site may give anonymous visitors no renders


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"clip_seconds": (30, 60)}, "clip_seconds"),  # every plan has the standard clip
        ({"clip_seconds": (15, 45)}, "clip_seconds"),
        ({"clip_seconds": ()}, "clip_seconds"),
        ({"daily_renders": 0}, "daily_renders"),
        ({"daily_renders": 1001}, "daily_renders"),
        ({"daily_renders": "5"}, "daily_renders"),
        ({"name": "Studio"}, "name"),
        ({"name": "x" * 41}, "name"),
        ({"name": ""}, "name"),
    ],
)
def test_a_plan_that_cannot_be(changes, field):
    with pytest.raises(ValidationError) as raised:
        Plan.model_validate({"name": "studio", "clip_seconds": [15, 30], "daily_renders": 5} | changes)
    assert [error["loc"][0] for error in raised.value.errors()] == [field]


@pytest.mark.parametrize(("renders", "name"), [(1, "a"), (1000, "x" * 40)])
def test_a_plan_at_its_limits(renders, name):
    assert Plan(name=name, clip_seconds=(15,), daily_renders=renders).daily_renders == renders
