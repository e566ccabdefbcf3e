"""The book's words on screen as WebVTT (https://www.w3.org/TR/webvtt1/), timed to the shots."""

import re

import pytest
from pydantic import ValidationError

from infra.domain.storyboard import Storyboard, field_errors
from infra.domain.subtitles import cues, escape, timestamp, webvtt

# A cue timing line as the specification writes it, hours included: HH:MM:SS.mmm --> HH:MM:SS.mmm
TIMING = re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d\.\d{3} --> \d{2,}:[0-5]\d:[0-5]\d\.\d{3}$")


def storyboard(*quotes, starts=(0, 5, 10)) -> Storyboard:
    shots = [
        {"start_s": s, "prompt": f"shot {i}", "quote": q} for i, (s, q) in enumerate(zip(starts, quotes, strict=True))
    ]
    return Storyboard.model_validate({"title": "The bridge", "shots": shots})


def test_each_quoted_shot_is_a_cue_until_the_next_shot():
    board = storyboard("Он вышел на мост.", None, "Нева была тиха…")
    assert webvtt(cues(board, 15.0)) == (
        "WEBVTT\n"
        "\n"
        "1\n"
        "00:00:00.000 --> 00:00:05.000\n"
        "Он вышел на мост.\n"
        "\n"
        "2\n"
        "00:00:10.000 --> 00:00:15.000\n"
        "Нева была тиха…\n"
    )


def test_the_file_keeps_the_specifications_shape():
    text = webvtt(cues(storyboard("one", "two & <three>", "four\n\nfive"), 15.0))
    lines = text.split("\n")
    assert lines[0] == "WEBVTT" and lines[1] == ""
    blocks = text.rstrip("\n").split("\n\n")[1:]
    assert len(blocks) == 3  # a blank line inside a quote would have ended its cue early
    for block in blocks:
        identifier, timing, payload = block.split("\n")
        assert identifier.isdigit() and TIMING.match(timing) and "-->" not in payload


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("a <b>bold</b> claim", "a &lt;b&gt;bold&lt;/b&gt; claim"),
        ("x --> y", "x --&gt; y"),
        ("&amp; already", "&amp;amp; already"),
        ("two\nlines\t here", "two lines here"),
    ],
)
def test_cue_text_is_escaped(text, escaped):
    assert escape(text) == escaped


@pytest.mark.parametrize(
    ("seconds", "written"),
    [(0, "00:00:00.000"), (4.5, "00:00:04.500"), (14.9999, "00:00:15.000"), (59.999, "00:00:59.999"),
     (60, "00:01:00.000"), (3725.25, "01:02:05.250")],
)  # fmt: skip
def test_timestamps_have_hours_minutes_seconds_and_milliseconds(seconds, written):
    assert timestamp(seconds) == written


def test_a_storyboard_without_quotes_has_no_cues():
    assert cues(storyboard(None, None, None), 15.0) == []


def test_an_emptied_line_is_dropped():
    assert storyboard("  ", "", "kept").shots[0].quote is None
    assert [cue.text for cue in cues(storyboard("  ", "", "kept"), 15.0)] == ["kept"]


def test_a_quote_is_at_most_100_characters():
    assert storyboard("я" * 100, None, None).shots[0].quote == "я" * 100
    with pytest.raises(ValidationError) as error:
        storyboard("я" * 101, None, None)
    assert [(e.field, e.message) for e in field_errors(error.value)] == [
        ("shots.0.quote", "this is too long: at most 100 characters")
    ]


def test_every_shot_quoted_is_a_cue_each_until_the_next_and_the_last_until_the_end():
    timed = [(cue.start_s, cue.end_s, cue.text) for cue in cues(storyboard("one", "two", "three"), 15.0)]
    assert timed == [(0, 5, "one"), (5, 10, "two"), (10, 15.0, "three")]
