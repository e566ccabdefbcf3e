"""Each limit of the storyboard contract at the limit (accepted) and one step past it
(refused, on the right field): shot spacing, the last start, shot count, prompt tokens,
text lengths, the seed. The expected numbers are the documented limits, written out."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from infra.domain.storyboard import Storyboard, field_errors


def errors(data: dict) -> dict[str, str]:
    try:
        Storyboard.model_validate(data)
    except ValidationError as error:
        return {item.field: item.message for item in field_errors(error)}
    return {}


@pytest.fixture
def plain(storyboard_data) -> dict:
    """The example storyboard without a style or camera notes, so a prompt's tokens are its own."""
    data = copy.deepcopy(storyboard_data)
    data["style"] = ""
    data["shots"] = [{"start_s": 0, "prompt": "a bridge"}]
    return data


def shots_at(*starts: float) -> list[dict]:
    return [{"start_s": start, "prompt": f"shot {number}"} for number, start in enumerate(starts)]


@pytest.mark.parametrize(("second", "ok"), [(1.0, True), (0.99, False)])
def test_shots_one_second_apart_at_least(plain, second, ok):
    plain["shots"] = shots_at(0, second)
    assert ("shots.1.start_s" not in errors(plain)) is ok


@pytest.mark.parametrize(("start", "ok"), [(14.0, True), (14.01, False)])
def test_the_last_shot_starts_by_fourteen_seconds(plain, start, ok):
    plain["shots"] = shots_at(0, start)
    problems = errors(plain)
    assert ("shots.1.start_s" not in problems) is ok
    if not ok:
        assert problems["shots.1.start_s"].endswith("so every shot must start by 14.0 s")


@pytest.mark.parametrize(("count", "ok"), [(1, True), (8, True), (9, False), (0, False)])
def test_one_to_eight_shots(plain, count, ok):
    plain["shots"] = shots_at(*range(count))
    assert ("shots" not in errors(plain)) is ok


@pytest.mark.parametrize(("words", "ok"), [(75, True), (76, False)])
def test_a_prompt_fits_77_tokens(plain, words, ok):
    # The estimate counts a short word as one token, plus the start and end tokens: 75 words
    # are 77 tokens, 76 are 78.
    plain["shots"] = [{"start_s": 0, "prompt": " ".join(["cat"] * words)}]
    problems = errors(plain)
    assert ("shots.0.prompt" not in problems) is ok
    if not ok:
        assert problems["shots.0.prompt"].startswith(
            "shot 1's prompt, with its camera note and the style, is 78 tokens"
        )


@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", 120), ("book", 200), ("author", 200)],
)
def test_storyboard_text_lengths(plain, field, limit):
    plain[field] = "x" * limit
    assert field not in errors(plain)
    plain[field] = "x" * (limit + 1)
    assert errors(plain)[field] == f"this is too long: at most {limit} characters"


def test_a_camera_note_of_200_characters(plain):
    plain["shots"][0]["camera"] = "x" * 200  # one long word: well within the tokens
    assert "shots.0.camera" not in errors(plain)
    plain["shots"][0]["camera"] = "x" * 201
    assert errors(plain)["shots.0.camera"] == "this is too long: at most 200 characters"


def test_a_style_of_300_characters(plain):
    plain["style"] = "x" * 300
    assert "style" not in errors(plain)
    plain["style"] = "x" * 301
    assert errors(plain)["style"] == "this is too long: at most 300 characters"


@pytest.mark.parametrize(("seed", "ok"), [(0, True), (4294967295, True), (4294967296, False), (-1, False)])
def test_the_seed_fits_32_bits(plain, seed, ok):
    plain["seed"] = seed
    assert ("seed" not in errors(plain)) is ok


# -- longer clips (issue 17): the last start and the shot count scale with the length ---------


@pytest.mark.parametrize(
    ("length", "start", "ok", "latest"),
    [(30, 29.0, True, "29.0"), (30, 29.01, False, "29.0"), (60, 59.0, True, "59.0"), (60, 59.01, False, "59.0")],
)
def test_the_last_shot_starts_a_second_before_a_longer_clip_ends(plain, length, start, ok, latest):
    plain["clip_seconds"] = length
    plain["shots"] = shots_at(0, start)
    problems = errors(plain)
    assert ("shots.1.start_s" not in problems) is ok
    if not ok:
        assert problems["shots.1.start_s"] == (
            f"shot 2 starts at {start} s: the clip is {length} s long, so every shot must start by {latest} s"
        )


def test_a_fifteen_second_clip_refuses_a_start_a_thirty_second_one_takes(plain):
    plain["shots"] = shots_at(0, 20)
    assert "shots.1.start_s" in errors(plain)
    plain["clip_seconds"] = 30
    assert errors(plain) == {}


@pytest.mark.parametrize(
    ("length", "count", "ok"),
    [(15, 8, True), (15, 9, False), (30, 16, True), (30, 17, False), (60, 32, True), (60, 33, False)],
)
def test_eight_shots_for_every_fifteen_seconds(plain, length, count, ok):
    plain["clip_seconds"] = length
    plain["shots"] = shots_at(*range(count))
    problems = errors(plain)
    assert ("shots" not in problems) is ok
    if not ok and count != 33:
        limit = {15: 8, 30: 16, 60: 32}[length]
        assert problems["shots"] == (
            f"a {length}-second clip takes at most {limit} shots; remove some or choose a longer clip"
        )


@pytest.mark.parametrize("length", [30, 60])
@pytest.mark.parametrize(("second", "ok"), [(1.0, True), (0.99, False)])
def test_shots_one_second_apart_in_a_longer_clip_too(plain, length, second, ok):
    plain["clip_seconds"] = length
    plain["shots"] = shots_at(0, 10, 10 + second)
    assert ("shots.2.start_s" not in errors(plain)) is ok


@pytest.mark.parametrize(("length", "ok"), [(15, True), (30, True), (60, True), (45, False), (120, False), (0, False)])
def test_a_clip_is_15_30_or_60_seconds(plain, length, ok):
    plain["clip_seconds"] = length
    problems = errors(plain)
    assert ("clip_seconds" not in problems) is ok
    if not ok:
        assert problems["clip_seconds"] == "this must be one of: 15, 30 or 60"


def test_a_plan_s_lengths_are_checked_when_given():
    data = {"title": "t", "shots": [{"start_s": 0, "prompt": "a bridge"}], "clip_seconds": 60}
    Storyboard.model_validate(data)  # no plan in the context: any length
    Storyboard.model_validate(data, context={"clip_lengths": (15, 30, 60)})
    with pytest.raises(ValidationError) as raised:
        Storyboard.model_validate(data, context={"clip_lengths": (15, 30)})
    [problem] = field_errors(raised.value)
    assert (problem.field, problem.message) == (
        "clip_seconds",
        "your plan allows clips of 15, 30 s, not 60 s; choose one of those, or ask an admin for a plan with longer "
        "clips",
    )
