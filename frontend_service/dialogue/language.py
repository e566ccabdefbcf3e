"""Which of the site's two languages a text is in, and Russian in Latin letters."""

from __future__ import annotations

import re

import iuliia

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)


def is_russian(text: str) -> bool:
    """Whether most of the text's words are Cyrillic."""
    letters = WORDS.findall(text)
    cyrillic = sum(1 for word in letters if _CYRILLIC.search(word))
    return cyrillic > len(letters) / 2


def language_of(text: str) -> str:
    """'ru' for a mostly Cyrillic text, else 'en': the two languages the site speaks."""
    return "ru" if is_russian(text) else "en"


def transliterate(word: str) -> str:
    """A Russian word in Latin letters by ICAO Doc 9303 (the table Russian passports use
    since 2013), capitalised: Раскольников -> Raskolnikov, Вронский -> Vronskii,
    Соня -> Sonia. Plain ASCII, no apostrophes, so the result is a name anywhere."""
    latin = iuliia.ICAO_DOC_9303.translate(word)
    return latin[:1].upper() + latin[1:]
