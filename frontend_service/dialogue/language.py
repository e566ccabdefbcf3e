"""Which of the site's two languages a text is in, and Russian names in Latin letters."""

from __future__ import annotations

import re

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)
# One Latin spelling per Cyrillic letter (hard and soft signs drop out).
_LATIN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}


def is_russian(text: str) -> bool:
    """Whether most of the text's words are Cyrillic."""
    letters = WORDS.findall(text)
    cyrillic = sum(1 for word in letters if _CYRILLIC.search(word))
    return cyrillic > len(letters) / 2


def language_of(text: str) -> str:
    """'ru' for a mostly Cyrillic text, else 'en': the two languages the site speaks."""
    return "ru" if is_russian(text) else "en"


def transliterate(word: str) -> str:
    """A Russian word in Latin letters, capitalised (Раскольников -> Raskolnikov)."""
    latin = "".join(_LATIN.get(c.lower(), c) for c in word)
    return latin[:1].upper() + latin[1:]
