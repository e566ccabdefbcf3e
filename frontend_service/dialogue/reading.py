"""What a scene shows, read without a language model, in English words.

A reading is what the offline engine drafts from: the people (names in their dictionary
form, in Latin letters, with what is said of them), the places, the time of day and the
season, the weather, the mood and the art style, and the scene's beats (each sentence,
or each image in it, put into English). English is read as written, with words compared
in their dictionary form (simplemma); Russian through pymorphy3's dictionaries: names
from any case to the nominative, and the words of vocabulary.json (places, people,
times, weather, moods, actions) put into English. Russian it does not recognise is left
out: without a language model there is no translating a whole sentence.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from frontend_service.dialogue.language import is_russian
from frontend_service.dialogue.words import (
    Gender,
    RussianWord,
    english_lemma,
    is_english_word,
    is_russian_name,
    russian_gender,
    russian_name,
    russian_word,
)

_VOCABULARY = json.loads((Path(__file__).with_name("vocabulary.json")).read_text(encoding="utf-8"))
STYLE_WORDS: set[str] = set(_VOCABULARY["style_words"])
MOOD_WORDS: set[str] = set(_VOCABULARY["mood_words"])
ENGLISH: dict[str, set[str]] = {
    aspect: MOOD_WORDS | STYLE_WORDS if words["english"] is None else set(words["english"])
    for aspect, words in _VOCABULARY["aspects"].items()
}
RUSSIAN: dict[str, dict[str, str]] = {aspect: words["russian"] for aspect, words in _VOCABULARY["aspects"].items()}
ACTIONS: dict[str, str] = _VOCABULARY["actions"]
PREPOSITIONS: dict[str, dict[str, str]] = _VOCABULARY["prepositions"]

DETERMINERS = {"a", "an", "the", "this", "that", "his", "her", "their", "its", "our", "my", "your"}
LINKS = {
    "over", "across", "by", "of", "in", "on", "near", "above", "under", "along", "beside", "at", "into",
    "onto", "through", "towards", "toward", "behind", "beyond", "from", "to",
}  # fmt: skip
# Words that carry no picture of their own in a clause of times, weather and moods.
_FILLER = DETERMINERS | LINKS | {"and", "during", "early", "late", "year", "century", "very", "all", "mood", "style"}
_JOINERS = {"and", "but", "as", "while", "then", "so", "or", "where", "when", "which", "who", "whose"}
PRONOUNS: dict[str, Gender] = {"he": "m", "she": "f", "they": None}
_POSSESSIVES: dict[str, Gender] = {"his": "m", "her": "f", "their": None}
_TITLE_GENDER: dict[str, Gender] = {
    "mr": "m", "sir": "m", "lord": "m", "prince": "m", "count": "m", "captain": None, "dr": None,
    "mrs": "f", "miss": "f", "ms": "f", "lady": "f", "princess": "f", "countess": "f",
}  # fmt: skip
_TITLES = set(_TITLE_GENDER)
_YEAR = re.compile(r"^1[0-8]\d\d$")
_TOKEN = re.compile(r"[\w’'-]+")
_SENTENCES = re.compile(r"(?<=[.!?…;])\s+|\n+")
_RUSSIAN_PRONOUNS: dict[str, Gender] = {"он": "m", "она": "f", "они": None}
_GENDER_NOUN = {"m": "a man", "f": "a woman"}


@dataclass
class Person:
    name: str
    gender: Gender = None
    description: str = ""


@dataclass
class Beat:
    """One thing the scene shows, in English: an action (someone does something) or an image."""

    text: str
    person: str | None = None  # the name of who it shows, when it shows a named person
    someone: bool = False  # it shows a person, named or not


@dataclass
class Reading:
    people: list[Person] = field(default_factory=list)
    who: list[str] = field(default_factory=list)  # people without a name: "a woman", "a crowd"
    places: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    weather: list[str] = field(default_factory=list)
    moods: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    beats: list[Beat] = field(default_factory=list)
    recent: list[Person] = field(default_factory=list, repr=False)

    def person(self, name: str) -> Person | None:
        return next((p for p in self.people if p.name == name), None)

    def mention(self, person: Person) -> None:
        """Who was named last, for the pronouns after."""
        self.recent = [p for p in self.recent if p is not person] + [person]

    def latest(self, gender: Gender) -> Person | None:
        """The person a pronoun means: the latest named of that gender, else the latest named
        whose gender is not known."""
        for fits in ((gender,), (gender, None)) if gender else ((None, "m", "f"),):
            person = next((p for p in reversed(self.recent) if p.gender in fits), None)
            if person is not None:
                return person
        return None

    def add_person(self, name: str, gender: Gender = None) -> Person:
        """The person of that name, or the one whose full name holds it (Anna -> Anna Karenina)."""
        for person in self.people:
            if person.name == name or name in person.name.split() or person.name in name.split():
                if gender and not person.gender:
                    person.gender = gender
                return person
        person = Person(name, gender)
        self.people.append(person)
        return person

    def take(self, other: Reading) -> None:
        """Adds what another text (an answer, the passage) says to this reading."""
        for person in other.people:
            known = self.add_person(person.name, person.gender)
            known.description = known.description or person.description
        for name in ("who", "places", "times", "weather", "moods", "styles", "years"):
            mine = getattr(self, name)
            mine.extend(term for term in getattr(other, name) if term not in mine)


def read(text: str, known: list[Person] | None = None) -> Reading:
    """A text, in either of the site's languages, as what it shows in English; `known`, the
    people another text (the scene, for its passage) has named already."""
    people = [Person(p.name, p.gender, p.description) for p in known or []]
    reading = Reading(people=people, recent=list(people))
    if is_russian(text):
        _read_russian(text, reading)
    else:
        _read_english(text, reading)
    return reading


def sentences(text: str) -> list[str]:
    found = (s.strip().strip(".!?…;").strip() for s in _SENTENCES.split(text))
    return [s for s in found if s]


def english_terms(aspect: str, words: list[str]) -> list[str]:
    """The words of an aspect among the words of a text (two-word styles too), in order."""
    lowered = [word.lower() for word in words]
    found = [f"{a} {b}" for a, b in itertools.pairwise(lowered) if f"{a} {b}" in ENGLISH[aspect]]
    for word in lowered:
        if word in ENGLISH[aspect] or english_lemma(word) in ENGLISH[aspect]:
            term = word if word in ENGLISH[aspect] else english_lemma(word)
            if not any(term in pair.split() for pair in found):
                found.append(term)
    return list(dict.fromkeys(found))


# ---------------------------------------------------------------- English


def _read_english(text: str, reading: Reading) -> None:
    for sentence in sentences(text):
        clauses = [c.strip() for c in sentence.split(",") if c.strip()]
        kept = []
        for clause in clauses:
            words = _TOKEN.findall(clause)
            only_facts = _only_facts(words)
            _english_facts(words, reading, moods=only_facts)
            if not only_facts:
                kept.append(clause)
        _english_sentence(kept, reading)


def _english_facts(words: list[str], reading: Reading, moods: bool) -> None:
    """Times and weather from any clause; moods and styles from a clause of their own (in
    "the dark water", dark is the water's, not the clip's)."""
    for aspect, target in (("time", reading.times), ("weather", reading.weather)):
        target.extend(t for t in english_terms(aspect, words) if t not in target)
    for term in english_terms("mood", words) if moods else []:
        target = reading.styles if term in STYLE_WORDS else reading.moods
        if term not in target and not any(term in other.split() for other in target):
            target.append(term)
    reading.years.extend(w for w in words if _YEAR.match(w) and w not in reading.years)


def _only_facts(words: list[str]) -> bool:
    """A clause of times, weather, moods and styles only ("At dusk in the winter of 1866", "gloomy")."""
    facts = {t for aspect in ("time", "weather", "mood") for t in english_terms(aspect, words)}
    fact_words = {part for term in facts for part in term.split()}
    for word in words:
        lowered = word.lower()
        if lowered in _FILLER or _YEAR.match(word) or lowered in fact_words or english_lemma(word) in fact_words:
            continue
        return False
    return bool(words)


def _english_sentence(clauses: list[str], reading: Reading) -> None:
    """The sentence's beats: its action, with an appositive taken as a description of the
    person it follows, and images in it (a clause with no one in it) as beats of their own."""
    beats: list[Beat] = []
    index = 0
    while index < len(clauses):
        clause = _strip_times(clauses[index])
        words = _TOKEN.findall(clause)
        names = _english_names(words, first_in_sentence=index == 0 and not beats, known=reading.people)
        people = [reading.add_person(name, _TITLE_GENDER.get(name.split()[0].lower().rstrip("."))) for name in names]
        for person in people:
            reading.mention(person)
        if names and len(words) == len(" ".join(names).split()) and index + 2 < len(clauses):
            following = _TOKEN.findall(clauses[index + 1])
            if following and following[0].lower() in {"a", "an", "the"}:
                reading.add_person(names[-1]).description = clauses[index + 1]
                clauses = [*clauses[: index + 1], f"{clause} {clauses[index + 2]}", *clauses[index + 3 :]]
                del clauses[index]
                continue
        clause, someone, shown = _resolve_pronoun(clause, reading)
        words = _TOKEN.findall(clause)
        shown = shown or next((person.name for person in people), None)
        someone = someone or bool(names) or bool(english_terms("who", words))
        reading.who.extend(t for t in english_terms("who", words) if t not in reading.who and t not in PRONOUNS)
        for place in _place_phrases(words):
            if place.lower() not in (p.lower() for p in reading.places):
                reading.places.append(place)
        image = not someone and words and words[0].lower() not in LINKS | _JOINERS and not words[0].endswith("ing")
        if beats and not image:
            beats[-1].text = f"{beats[-1].text}, {clause}"
            beats[-1].person = beats[-1].person or shown
            beats[-1].someone = beats[-1].someone or someone
        else:
            beats.append(Beat(clause, person=shown, someone=someone))
        index += 1
    reading.beats.extend(beats)


def _english_names(words: list[str], first_in_sentence: bool, known: list[Person]) -> list[str]:
    """Capitalised words that are names: inside a sentence, or opening one when the
    dictionary does not know them; never after "the" (the Neva) nor a word the vocabulary
    knows. Neighbours make one name (Jane Eyre, Mr Rochester); a possessive drops its 's."""
    names: list[list[str]] = []
    previous = ""
    for position, raw in enumerate(words):
        word = re.sub(r"[’']s$", "", raw)
        opening = position == 0 and first_in_sentence
        capitalised = word[:1].isupper() and word.lower() not in PRONOUNS and word != "I"
        title = word.lower().rstrip(".") in _TITLES
        is_name = (
            capitalised
            and previous.lower() != "the"
            and not _known(word)
            and (title or not opening or not is_english_word(word) or any(word in p.name.split() for p in known))
        )
        if is_name and names and previous and previous == names[-1][-1]:
            names[-1].append(word)
        elif is_name:
            names.append([word])
        previous = word if is_name else raw
    if first_in_sentence and names and len(words) > 1 and names[0][0] == re.sub(r"[’']s$", "", words[1]):
        first = words[0]  # a first name the dictionary knows, before a surname it does not: Jane Eyre
        ordinary = DETERMINERS | LINKS | _JOINERS | set(PRONOUNS)
        if first[:1].isupper() and first.lower() not in ordinary and not _known(first):
            names[0].insert(0, first)
    return [" ".join(parts) for parts in names if not (len(parts) == 1 and parts[0].lower() in _TITLES)]


def _known(word: str) -> bool:
    lowered, lemma = word.lower(), english_lemma(word)
    return any(lowered in words or lemma in words for words in ENGLISH.values())


def _resolve_pronoun(clause: str, reading: Reading) -> tuple[str, bool, str | None]:
    """A clause opening with he, she or they (his, her, their) names the person instead:
    each shot is read on its own, so "he" would mean no one."""
    words = _TOKEN.findall(clause)
    if not words:
        return clause, False, None
    first = words[0].lower()
    if first not in PRONOUNS and first not in _POSSESSIVES:
        return clause, False, None
    gender = PRONOUNS[first] if first in PRONOUNS else _POSSESSIVES[first]
    person = reading.latest(gender)
    if person is None:
        return clause, True, None
    person.gender = person.gender or gender
    replacement = person.name if first in PRONOUNS else f"{person.name}'s"
    return replacement + clause[len(words[0]) :], True, person.name


def _strip_times(clause: str) -> str:
    """Removes "at dusk", "in the winter of 1866" from a beat: the time belongs to the place shot."""
    times = "|".join(sorted(ENGLISH["time"], key=len, reverse=True))
    pattern = rf"\s*\b(?:at|in|on|during|by)\s+(?:the\s+)?(?:early\s+|late\s+)?(?:{times})(?:\s+of\s+1\d\d\d)?\b"
    stripped = re.sub(pattern, "", clause, flags=re.IGNORECASE).strip()
    return stripped or clause


def _place_phrases(words: list[str]) -> list[str]:
    """Places as the text names them: a place word with its determiner and up to two words
    before it (a stone bridge, the Neva bridge), and places joined by a preposition
    (a stone bridge over the river) as one."""
    spans: list[tuple[int, int]] = []
    for index, word in enumerate(words):
        head = word.split("-")[-1]
        if head.lower() not in ENGLISH["place"] and english_lemma(head) not in ENGLISH["place"]:
            continue
        start = index
        for back in range(index - 1, max(index - 4, -1), -1):
            lowered = words[back].lower()
            if lowered in DETERMINERS:
                start = back
                break
            inflected = english_lemma(words[back]) != lowered and not words[back][0].isupper()
            if lowered in LINKS | _JOINERS or inflected:
                break  # a preposition, a joining word or an inflected word (a verb) ends the place
        else:
            start = index if not words[index - 1 : index] or not words[index - 1][0].isupper() else index - 1
        if spans and spans[-1][1] == index - 1:  # a compound already taken: "the stone bridge"
            continue
        spans.append((start, index))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start - merged[-1][1] == 2 and words[merged[-1][1] + 1].lower() in LINKS:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    phrases = []
    for start, end in merged:
        phrase = words[start : end + 1]
        if phrase[0].lower() in DETERMINERS:
            phrase[0] = phrase[0].lower()
        phrases.append(" ".join(phrase))
    return phrases


# ---------------------------------------------------------------- Russian


@dataclass
class _Found:
    """One sentence of a Russian text, read."""

    subject: str | None = None
    others: list[str] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)  # in the order said: "stands ... and sees {}"
    places: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def _read_russian(text: str, reading: Reading) -> None:
    for sentence in sentences(text):
        tokens = re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", sentence)
        words = [russian_word(token) for token in tokens]
        found = _Found()
        index = 0
        while index < len(words):
            word = words[index]
            run = _name_run(tokens, words, index)
            if run:
                person = _russian_person(tokens[index : index + run], reading)
                reading.mention(person)
                nominative = any(w.has("nomn") for w in words[index : index + run])
                if found.subject is None and nominative:
                    found.subject = person.name
                elif person.name != found.subject and person.name not in found.others:
                    found.others.append(person.name)
                index += run
                continue
            _russian_word(word, words[index - 1] if index else None, found, reading)
            index += 1
        if len(found.places) >= 2:  # по мосту через Неву: one place, "a stone bridge across the Neva river"
            first = re.sub(r"^(?:at|in|on|along|across|onto|into|towards|by) ", "", found.places[0])
            joined = f"{first} {found.places[1]}"
            reading.places = [joined if place == first else place for place in reading.places]
        beat = _russian_beat(found)
        if beat is not None:
            reading.beats.append(beat)


def _name_run(tokens: list[str], words: list[RussianWord], index: int) -> int:
    """How many words from here make one person's name (Анна Каренина is two), or 0: names
    the dictionary tags as such, or capitalised words it does not know; never a word of the
    vocabulary (Нева) nor a place the dictionary knows that is no one's name."""
    run = 0
    while index + run < len(words):
        token, word = tokens[index + run], words[index + run]
        known = any(lemma in vocabulary for lemma in word.lemmas for vocabulary in RUSSIAN.values())
        named = word.has("Name") or word.has("Surn") or word.has("Patr")
        if known or (word.has("Geox") and not named) or not is_russian_name(token):
            break
        run += 1
    return run


def _russian_person(tokens: list[str], reading: Reading) -> Person:
    gender = next((g for g in map(russian_gender, tokens) if g), None)
    # The first name (Анна) says the gender its surname (Каренина, not Каренин's) agrees with.
    first_names = [t for t in tokens if russian_word(t).has("Name")]
    if first_names:
        gender = russian_gender(first_names[0])
    parts = [russian_name(token, gender)[0] for token in tokens]
    if gender is None:
        gender = russian_name(tokens[-1])[1]
    return reading.add_person(" ".join(parts), gender)


def _russian_word(word: RussianWord, before: RussianWord | None, found: _Found, reading: Reading) -> None:
    lemmas = word.lemmas
    if word.text.lower() in _RUSSIAN_PRONOUNS and found.subject is None:
        person = reading.latest(_RUSSIAN_PRONOUNS[word.text.lower()])
        if person is not None:
            found.subject = person.name
        return
    for aspect, target in (("time", reading.times), ("weather", reading.weather), ("mood", None), ("who", None)):
        meaning = next((RUSSIAN[aspect][lemma] for lemma in lemmas if lemma in RUSSIAN[aspect]), None)
        if meaning is None:
            continue
        if aspect == "mood":
            target = reading.styles if meaning in STYLE_WORDS else reading.moods
        elif aspect == "who":
            target = reading.who
            if found.subject is None and word.has("nomn"):
                found.subject = meaning
            elif meaning != found.subject:
                found.others.append(meaning)
        if target is not None and meaning not in target:
            target.append(meaning)
        if aspect == "weather":
            found.images.append(meaning)
        return
    place = next((RUSSIAN["place"][lemma] for lemma in lemmas if lemma in RUSSIAN["place"]), None)
    if place is not None:
        bare = re.sub(r"^(?:at|in|on) ", "", place)
        if bare not in reading.places:
            reading.places.append(bare)
        found.places.append(place if bare != place else _with_preposition(place, before, word))
        return
    if word.has("VERB") or word.has("INFN") or word.has("GRND"):
        action = next((ACTIONS[lemma] for lemma in lemmas if lemma in ACTIONS), None)
        if action is not None and action not in found.verbs:
            found.verbs.append(action)


def _with_preposition(place: str, before: RussianWord | None, word: RussianWord) -> str:
    if before is None or before.text.lower() not in PREPOSITIONS:
        return place
    cases = PREPOSITIONS[before.text.lower()]
    english = cases.get(word.case_after()) or cases.get("") or next(iter(cases.values()))
    return f"{english} {place}"


def _russian_beat(found: _Found) -> Beat | None:
    if found.subject is not None:
        parts = [found.subject]
        if found.verbs:
            parts.append(" and ".join(_with_objects(verb, found.others) for verb in found.verbs[:2]))
            if found.others and not any("{}" in verb for verb in found.verbs[:2]):
                parts.append(f"with {' and '.join(found.others)}")
        elif found.others:
            parts.append(f"with {' and '.join(found.others)}")
        text = " ".join([*parts, *found.places[:2]])
        named = found.subject[:1].isupper()
        return Beat(text, person=found.subject if named else None, someone=True)
    if found.others:  # someone is there, but nothing in the sentence says who acts
        return Beat(" ".join([" and ".join(found.others), *found.places[:2]]), someone=True)
    image = [*found.images, *found.places[:2]]
    return Beat(", ".join(image)) if image else None


def _with_objects(verb: str, others: list[str]) -> str:
    """ "sees {}" with whom it is said of (sees Vronsky), or without its object when none is."""
    if others:
        return verb.replace("{}", " and ".join(others))
    return re.sub(r"\s*(?:\b\w+\s+)?\{\}", "", verb)


def gender_noun(person: Person) -> str:
    """ "a man", "a woman": what the image model is told of a named person it knows nothing
    else about; nothing after a title (Mr Rochester) that says it already."""
    if person.name.split()[0].lower().rstrip(".") in _TITLES:
        return ""
    return _GENDER_NOUN.get(person.gender or "", "")
