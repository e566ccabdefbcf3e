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
