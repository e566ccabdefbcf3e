"""The site speaks English and Russian (the seed audience reads Russian).

The language is the one chosen with the switch (?lang=ru, remembered in the
session), else the best match for the browser's Accept-Language, else English.
Catalogues live in frontend_service/translations and are compiled by `make install`.
"""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel, get_locale, gettext, ngettext
from pydantic import ValidationError

from infra.domain import storyboard
from infra.domain.text import N_

LANGUAGES = {"en": "English", "ru": "Русский"}

# A render's states and its job's stages, as a person reads them (the page and app.js).
STATES = {
    "queued": N_("queued"),
    "dispatching": N_("starting"),
    "running": N_("running"),
    "succeeded": N_("ready"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
    "loading": N_("loading the model"),
    "denoising": N_("drawing the frames"),
    "decoding": N_("decoding the frames"),
    "encoding": N_("writing the video"),
    "joining": N_("joining the clips"),
}


def select_locale() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return session.get("lang") or request.accept_languages.best_match(list(LANGUAGES)) or "en"


def state_name(name: str | None) -> str:
    """A render state or job stage in the person's language (an unknown one as it is)."""
    return gettext(STATES[name]) if name in STATES else name or ""


def state_names() -> dict[str, str]:
    return {name: gettext(words) for name, words in STATES.items()}


def field_errors(error: ValidationError) -> list[storyboard.FieldError]:
    """Validation errors, one per field, in the person's language."""
    # ngettext fills %(num)d itself: the templates' own {placeholders} are filled afterwards.
    return storyboard.field_errors(
        error, translate=gettext, translate_plural=lambda one, many, count: ngettext(one, many, count)
    )


def init(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, get_locale=get_locale, state_name=state_name, state_names=state_names
    )
