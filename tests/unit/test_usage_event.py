"""A render attempt's usage event (infra.domain.usage.render_attempt_event), field by field,
its cost worked by hand from the unit prices (tests/unit/test_money.py lists them)."""

from __future__ import annotations

import pytest

from infra.domain.reel import Reel, ReelPart
from infra.domain.render import Render
from infra.domain.storyboard import Storyboard, resolve_spec
from infra.domain.usage import render_attempt_event


def render(**fields) -> Render:
    spec = resolve_spec(Storyboard(title="t", shots=[{"start_s": 0, "prompt": "p"}]), "draft")
    return Render(id="r1", user_id="u1", scene_id="s1", spec=spec, attempts=2, **fields)


def test_an_attempt_on_a_gpu_bills_the_gpu_for_every_second():
    event = render_attempt_event(render(runner="tok-1"), 100.0, "succeeded", "cuda")
    assert (event.event_id, event.kind, event.user_id, event.scene_id, event.render_id) == (
        "render-attempt-tok-1",
        "render",
        "u1",
        "s1",
        "r1",
    )
    assert (event.model, event.frames, event.status) == ("tiny", 120, "succeeded")
    assert (event.wall_seconds, event.gpu_seconds) == (100.0, 100.0)
    assert event.cost_usd == pytest.approx(0.02907, abs=1e-12)  # 100 x 0.000104 + 100 x 0.0001867
    assert event.attributes == {"preset": "draft", "device": "cuda", "attempt": 2}


@pytest.mark.parametrize("device", ["cpu", None])
def test_an_attempt_without_a_gpu_bills_no_gpu_second(device):
    event = render_attempt_event(render(runner="tok-1"), 60.0, "failed", device)
    assert (event.wall_seconds, event.gpu_seconds, event.status) == (60.0, 0.0, "failed")
    assert event.cost_usd == pytest.approx(0.00624, abs=1e-12)  # 60 x 0.000104
    assert event.attributes["device"] == device


def test_an_attempt_without_a_runner_token_gets_an_id_of_its_own():
    first, second = (render_attempt_event(render(), 1.0, "interrupted", None) for _ in range(2))
    assert first.event_id != second.event_id and not first.event_id.startswith("render-attempt-")
    assert len(first.event_id) == 32 and int(first.event_id, 16) >= 0  # uuid4 hex


def test_a_clip_counts_its_seconds_of_animation_and_a_reel_none():
    """A reel joins clips already made: its attempt costs, but adds no animation seconds to
    the cost per second of animation (the clips' own renders counted theirs)."""
    spec = resolve_spec(Storyboard(title="t", clip_seconds=30, shots=[{"start_s": 0, "prompt": "p"}]), "draft")
    clip = Render(user_id="u1", spec=spec)
    assert render_attempt_event(clip, 10.0, "succeeded", "cpu").clip_seconds == 30
    parts = [ReelPart(scene_id="s1", render_id=clip.id, duration_s=30.0)]
    reel = Render(user_id="u1", spec=spec, reel=Reel(book_id="b1", title="t", parts=parts))
    assert render_attempt_event(reel, 10.0, "succeeded", "cpu").clip_seconds == 0
