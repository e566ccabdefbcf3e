"""Text a person typed: trimmed, no control characters, and where it must show
something, at least one visible character."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError


def N_(message: str) -> str:
    """Marks a message for the site's catalogue (pybabel extracts it); the site translates it
    where it shows it (frontend_service.i18n), the CLI and the logs keep the English."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with plural forms for the catalogue (the site picks the form by count)."""
    return singular, plural


#: The person's words for each problem: field_errors (infra.domain.storyboard) finds them by kind.
CONTROL_CHARACTERS = N_("remove the control characters from this text")
NO_VISIBLE_TEXT = N_("write something visible: this has only spaces or invisible characters")
#: C0 control characters but the tab (09) and the line feed (0A).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", CONTROL_CHARACTERS)
    return value


#: Text a person typed: trimmed, and free of control characters (newlines and tabs are fine).
Text = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_no_control_characters)]

# Unicode's default-ignorable code points (DerivedCoreProperties.txt) that are not format
# characters (Cf): Hangul fillers, variation selectors, the combining grapheme joiner,
# Mongolian free variation selectors and unassigned ranges kept for them. They render as
# nothing; a test holds this list to the `regex` package's \p{Default_Ignorable_Code_Point}.
_IGNORABLE_BEYOND_CF = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180D),
    (0x180F, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)


def is_visible(character: str) -> bool:
    """Whether a character shows: not white space, not a control or format character, not
    one of Unicode's default-ignorable code points (zero-width spaces and joiners,
    bidirectional marks, variation selectors, Hangul fillers)."""
    if character.isspace() or unicodedata.category(character) in ("Cc", "Cf"):
        return False
    code = ord(character)
    return not any(low <= code <= high for low, high in _IGNORABLE_BEYOND_CF)


def _visible(value: str) -> str:
    if value and not any(is_visible(character) for character in value):
        raise PydanticCustomError("no_visible_text", NO_VISIBLE_TEXT)
    return value


#: Text that must show something: a scene, a title, a shot's prompt.
VisibleText = Annotated[Text, AfterValidator(_visible)]
