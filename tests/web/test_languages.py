"""English and Russian: from the browser's Accept-Language, or the switch, remembered."""

import pytest


def test_english_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Write a scene from a book" in page


def test_russian_from_the_browser(client):
    page = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert "Опишите сцену из книги" in page and "Демо-режим" in page
    assert "Write a scene from a book" not in page


def test_the_switch_wins_and_is_remembered(client):
    client.get("/?lang=ru", headers={"Accept-Language": "en"})
    page = client.get("/renders", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Мои ролики" in page and '<a href="?lang=en"' in page
    client.get("/?lang=en")
    assert "My renders" in client.get("/renders").get_data(as_text=True)


def test_an_unknown_language_falls_back_to_english(client):
    assert "Write a scene from a book" in client.get("/?lang=xx", headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )


@pytest.mark.parametrize("key", ["saved", "tokens", "seconds_left", "failed", "server"])
def test_the_scripts_strings_are_translated_too(client, key):
    import json
    import re

    page = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="i18n">(.*?)</script>', page, re.S)
    assert found, "the page carries its strings"
    strings = json.loads(found[1])
    assert re.search("[а-яё]", strings[key], re.IGNORECASE), strings[key]


def test_every_catalogue_entry_is_translated():
    from babel.messages.pofile import read_po

    from tests.conftest import ROOT

    with open(ROOT / "frontend_service/translations/ru/LC_MESSAGES/messages.po", "rb") as file:
        catalogue = read_po(file)
    with open(ROOT / "frontend_service/translations/messages.pot", "rb") as file:
        template = read_po(file)
    assert {m.id for m in template if m.id} <= {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
