"""The visible-text rule, held to Unicode's own definition of what renders as nothing."""

import unicodedata

import pytest
import regex

from infra.domain.text import is_visible

# Unicode's properties as the regex package publishes them (White_Space,
# Default_Ignorable_Code_Point, the Cc and Cf categories).
INVISIBLE = regex.compile(r"[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}]")


def test_visible_means_what_unicode_says_for_every_assigned_code_point():
    disagree = [
        f"U+{code:04X}"
        for code in range(0x110000)
        # Code points Python's own Unicode database has not assigned yet are left out:
        # regex may know a newer Unicode (U+13439..1343F became format characters in 15.0).
        if unicodedata.category(chr(code)) != "Cn" and is_visible(chr(code)) == bool(INVISIBLE.match(chr(code)))
    ]
    assert disagree == []


@pytest.mark.parametrize(
    ("character", "visible"),
    [
        ("a", True),
        ("ж", True),
        ("\u0301", True),  # a combining acute accent shows on its letter
        (" ", False),
        ("\u00a0", False),  # no-break space
        ("\u200b", False),  # zero-width space (Cf)
        ("\u3164", False),  # Hangul filler (Lo, yet ignorable)
        ("\ufe0f", False),  # variation selector (Mn, yet ignorable)
        ("\U000e0100", False),  # variation selector supplement
        ("\U000e0fff", False),  # the end of the ignorable tag block
        ("\U000e1000", True),  # one past it: not in the range (unassigned, shown as a box)
    ],
)
def test_limits_of_the_ignorable_ranges(character, visible):
    assert is_visible(character) is visible


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("a\tb", True),  # 09, tab: kept
        ("a\nb", True),  # 0A, line feed: kept
        ("a b", True),  # 20, the first character past the control characters
        ("a\x00b", False),
        ("a\x08b", False),  # the one before the tab
        ("a\x0bb", False),  # the one after the line feed
        ("a\rb", False),
        ("a\x1fb", False),  # the last control character
    ],
)
def test_control_characters_but_tab_and_line_feed_are_refused(typed, accepted):
    from pydantic import TypeAdapter, ValidationError

    from infra.domain.text import Text

    try:
        TypeAdapter(Text).validate_python(typed)
    except ValidationError as refused:
        assert not accepted and refused.errors()[0]["type"] == "control_characters"
    else:
        assert accepted
