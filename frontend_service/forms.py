"""What the site's HTML forms send, read as the models expect it (the JSON API sends typed values)."""

from __future__ import annotations

#: Every number a form takes is far below 10**20; Python reads no integer of over 4,300 digits.
MAX_NUMBER_DIGITS = 20


def whole_number(text: str) -> int | str:
    """A form field meant to hold a whole number: the number, where it is one written in ASCII
    digits (not "²", which str.isdigit() takes, nor 5,000 digits); else the text as typed,
    which the model's strict check refuses with a message saying what to change."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_NUMBER_DIGITS else text
