"""The site speaks English and Russian (the seed audience reads Russian).

The language is the one chosen with the switch (?lang=ru, remembered in the
session), else the best match for the browser's Accept-Language, else English.
Catalogues live in frontend_service/translations and are compiled by `make install`.
"""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel, get_locale

LANGUAGES = {"en": "English", "ru": "Русский"}


def select_locale() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return session.get("lang") or request.accept_languages.best_match(list(LANGUAGES)) or "en"


def init(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale)
