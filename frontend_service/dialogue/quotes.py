"""The book's words on screen: short quotations from the passage the person gave, one per
shot, always verbatim.

A quote is a span of the passage exactly as written (a test holds every engine to
`quote in passage`): the offline engine takes the passage's sentences in order, and a
language model's quotes are kept only where they are found in the passage. With no
passage there are no quotes: the scene is the person's own words, not the book's.
"""

from __future__ import annotations

import re

from infra.domain.storyboard import MAX_QUOTE_CHARS

# A sentence: up to its end mark and any closing quotation marks or brackets after it.
_SENTENCE = re.compile(r"[^.!?…]+(?:[.!?…]+[\"'»”’)]*|$)")
_LETTER = re.compile(r"[^\W\d_]")
# What may open or close a span without being part of the words: dialogue dashes, spaces.
_EDGE = " \t\n—–-"
_TRAILING = " \t\n,;:—–-"


def sentences(passage: str) -> list[str]:
    """The passage's sentences, each a verbatim span of it, in order."""
    found = (match.group(0).strip(_EDGE) for match in _SENTENCE.finditer(passage))
    return [sentence for sentence in found if _LETTER.search(sentence)]


def shorten(sentence: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """The sentence, or its beginning up to the last whole word within `limit`: still a
    span of the passage (no ellipsis is added, which the book does not have)."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit + 1]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut[:limit]
    return cut.rstrip(_TRAILING)


def spread(passage: str | None, count: int) -> list[str | None]:
    """One quote per shot: the passage's sentences spread over `count` shots in order
    (as the offline engine spreads its beats); None for every shot without a passage."""
    found = sentences(passage or "")
    if not found:
        return [None] * count
    picked: list[str | None] = [*found, *([None] * (count - len(found)))]
    if len(found) > count:
        picked = [found[index * len(found) // count] for index in range(count)]
    return [shorten(sentence) if sentence else None for sentence in picked]


def verbatim(quote: str | None, passage: str | None) -> str | None:
    """A model's quote as the passage writes it, or None when the passage does not hold it
    (a paraphrase, a translation, an invention) or it is too long: never shown as the book's."""
    if not quote or not passage:
        return None
    # The model saw the passage with its angle brackets swapped for look-alikes (chatgpt._data).
    words = quote.replace("‹", "<").replace("›", ">").strip(_EDGE).split()
    if not words:
        return None
    # Line breaks and runs of spaces in the passage may be written as one space by the model.
    match = re.search(r"\s+".join(re.escape(word) for word in words), passage)
    if match is None or len(match.group(0)) > MAX_QUOTE_CHARS:
        return None
    return match.group(0)
