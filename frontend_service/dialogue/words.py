"""Words in their dictionary form: Russian by pymorphy3 with its OpenCorpora dictionaries,
English by simplemma; Russian names in Latin letters (language.transliterate, ICAO Doc 9303).

A name in a Russian sentence comes in one of six cases (Вронского, Вронскому, Вронским...);
a prompt wants the name itself, in the nominative and the person's gender (Вронский,
Каренина), then in Latin letters (Vronskii, Karenina).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

from frontend_service.dialogue.language import transliterate

if TYPE_CHECKING:
    import pymorphy3

# pymorphy3 and simplemma are imported where they are first used, as their dictionaries are
# loaded: the website starts without them (a sixth of its start), and with a ChatGPT key it
# loads them only if the offline engine has to stand in.

# pymorphy3's grammemes (OpenCorpora's tag set) for a person's first name, surname and patronymic.
_PERSON_NAME = {"Name", "Surn", "Patr"}
Gender = Literal["m", "f"] | None


@dataclass(frozen=True)
class RussianWord:
    """One word of a Russian sentence as the dictionary reads it."""

    text: str
    lemmas: tuple[str, ...]  # every reading's normal form, likeliest first, ё written е
    tags: tuple[frozenset[str], ...]  # every reading's grammemes, in the same order

    def has(self, *grammemes: str) -> bool:
        return any(set(grammemes) <= tag for tag in self.tags)

    def case_after(self) -> str:
        """The likeliest case of the word (for the preposition before it)."""
        for tag in self.tags:
            for case in ("nomn", "gent", "datv", "accs", "ablt", "loct", "loc2", "voct"):
                if case in tag:
                    return "loct" if case == "loc2" else case
        return ""


@cache
def _morph() -> pymorphy3.MorphAnalyzer:
    # Loading the dictionaries takes about a second; one analyzer per process serves every request.
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


def russian_word(word: str) -> RussianWord:
    parses = _morph().parse(word)
    return RussianWord(
        text=word,
        lemmas=tuple(dict.fromkeys(_plain(parse.normal_form) for parse in parses)),
        tags=tuple(frozenset(parse.tag.grammemes) for parse in parses),
    )


def is_russian_name(word: str) -> bool:
    """A first name, surname or patronymic the dictionary knows (Анна, Вронского), or a
    capitalised word it does not know at all (Кити)."""
    morph = _morph()
    if not word[:1].isupper():
        return False
    if any(_PERSON_NAME & set(parse.tag.grammemes) for parse in morph.parse(word)):
        return True
    return not morph.word_is_known(word.lower())


def russian_name(word: str, gender: Gender = None) -> tuple[str, Gender]:
    """A name in the nominative, in the gender of the name beside it when one is known,
    in Latin letters: (Вронского) -> ("Vronskii", "m"), (Каренина, "f") -> ("Karenina", "f")."""
    parses = [parse for parse in _morph().parse(word) if _PERSON_NAME & set(parse.tag.grammemes)]
    if not parses:  # a name the dictionary does not know: as written
        return _title(transliterate(word.lower())), gender

    def rank(parse) -> tuple[bool, bool]:
        agrees = gender is None or _gender(parse.tag.grammemes) == gender
        return (not agrees, "nomn" not in parse.tag.grammemes)

    best = min(parses, key=rank)  # min keeps the dictionary's order among equals
    nominative = best.inflect({"nomn"}) if "nomn" not in best.tag.grammemes else best
    form = (nominative or best).word
    return _title(transliterate(form)), _gender(best.tag.grammemes)


def russian_gender(word: str) -> Gender:
    """The gender of a name as the dictionary has it (None when it does not say)."""
    for parse in _morph().parse(word):
        if _PERSON_NAME & set(parse.tag.grammemes):
            return _gender(parse.tag.grammemes)
    return None


def english_lemma(word: str) -> str:
    """An English word's dictionary form, lower case: bridges -> bridge, walked -> walk."""
    import simplemma

    lowered = word.lower()
    return simplemma.lemmatize(lowered, lang="en").lower() if lowered else ""  # simplemma refuses ""


def is_english_word(word: str) -> bool:
    """Whether the dictionary knows the word (lower-cased): a capitalised word it does not
    know, opening a sentence, is taken for a name."""
    import simplemma

    return bool(word) and simplemma.is_known(word.lower(), lang="en")


def _gender(grammemes) -> Gender:
    return "f" if "femn" in grammemes else "m" if "masc" in grammemes else None


def _plain(word: str) -> str:
    return word.replace("ё", "е")


def _title(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
