"""Words in their dictionary form and Russian names in Latin letters, held to the published
tables: ICAO Doc 9303 Part 3 (the Cyrillic table Russian passports have used since 2013)."""

import pytest

from frontend_service.dialogue.language import transliterate
from frontend_service.dialogue.reading import read
from frontend_service.dialogue.words import english_lemma, russian_name

# ICAO Doc 9303, Part 3, Section 6, transliteration of Cyrillic characters (Russian letters),
# copied by hand from the published table. Ь is omitted; Ъ is IE.
ICAO_9303 = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH", "З": "Z", "И": "I",
    "Й": "I", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T",
    "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y",
    "Ь": "", "Э": "E", "Ю": "IU", "Я": "IA",
}  # fmt: skip


def test_the_table_has_every_russian_letter():
    assert len(ICAO_9303) == 33


@pytest.mark.parametrize(("letter", "latin"), sorted(ICAO_9303.items()))
def test_each_letter_as_icao_doc_9303_writes_it(letter, latin):
    # "б" + letter + "а" keeps the letter between consonant and vowel, where a capital stands for itself.
    assert transliterate(f"б{letter.lower()}а") == f"B{latin.lower()}a"


@pytest.mark.parametrize(
    ("word", "latin"),
    [
        ("Раскольников", "Raskolnikov"),
        ("Соня", "Sonia"),
        ("Щука", "Shchuka"),
        ("Вронский", "Vronskii"),
        ("Достоевский", "Dostoevskii"),
        ("Подъячев", "Podieiachev"),
    ],
)
def test_names_in_latin_letters(word, latin):
    assert transliterate(word) == latin


@pytest.mark.parametrize(
    ("word", "gender", "name"),
    [
        ("Вронского", None, "Vronskii"),  # the "Vronskogo": a genitive taken for a name
        ("Вронским", None, "Vronskii"),
        ("Карениной", None, "Karenina"),
        ("Каренина", "f", "Karenina"),  # Анна Каренина
        ("Каренина", "m", "Karenin"),  # жена Каренина: Karenin's wife
        ("Анну", None, "Anna"),
        ("Раскольникову", None, "Raskolnikov"),
        ("Сонечкой", None, "Sonechka"),
        ("Кити", None, "Kiti"),  # not in the dictionary: as written
    ],
)
def test_a_russian_name_in_any_case_becomes_its_nominative(word, gender, name):
    assert russian_name(word, gender)[0] == name


def test_a_name_and_surname_agree_in_gender():
    reading = read("Он увидел Анну Каренину на вокзале.")
    assert [(p.name, p.gender) for p in reading.people] == [("Anna Karenina", "f")]


def test_english_words_in_their_dictionary_form():
    words = ["bridges", "walked", "Wolves", "streets"]
    assert [english_lemma(word) for word in words] == ["bridge", "walk", "wolf", "street"]


def test_an_english_possessive_is_the_name_itself():
    reading = read("Frodo's hand closes on the Ring. Mr Rochester's horse falls.")
    assert [p.name for p in reading.people] == ["Frodo", "Mr Rochester"]


def test_places_in_the_plural_are_recognised():
    assert read("They walk through the narrow streets.").places == ["the narrow streets"]
