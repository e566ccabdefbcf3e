"""What the bot says, in English and Russian, from the site's own catalogues
(frontend_service/translations), so `make translations` finds these messages too.

Messages go out as plain text, which Telegram shows as it is; only captions and channel
posts use HTML (parse_mode), and there every value is escaped (`html_text`).
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "ru")
FOLDER = Path(__file__).resolve().parent.parent / "translations"


def _(text: str) -> str:
    """Marks a message for pybabel's extraction; `say` translates it when it is sent."""
    return text


@cache
def _catalogue(language: str) -> NullTranslations:
    return Translations.load(str(FOLDER), [language]) if language != "en" else NullTranslations()


def say(language: str, text: str, **values: object) -> str:
    translated = _catalogue(language).gettext(text)
    return translated % values if values else translated


def language_of(code: str | None) -> str:
    """Telegram's language_code (an IETF tag such as "ru" or "en-GB") as one we speak."""
    primary = (code or "").split("-")[0].lower()
    return primary if primary in LANGUAGES else "en"


def html_text(text: str) -> str:
    """Text for Telegram's HTML parse mode: <, > and & as entities, as the Bot API asks."""
    return html.escape(text, quote=False)


def html_link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html_text(text)}</a>'


HELLO = _(
    "Hello, %(name)s! I turn a scene from a book into a 15-second animated clip.\n\n"
    "Write a scene: who is there, where, and what happens. I will ask a few questions, draft a "
    "storyboard of shots and render it."
)
HELP = _(
    "Write a scene (or send /new first) and I will ask a few questions, then draft a storyboard: up "
    "to eight shots over 15 seconds. Render it here, or edit it on the site first.\n\n"
    "/new: a new scene\n/my: your latest clips\n/lang en or /lang ru: the language I speak\n/help: this message"
)
NEW_SCENE = _("Write the scene: who is there, where, and what happens.")
QUESTION = _("Question %(number)s of %(count)s: %(question)s")
SKIP = _("Skip")
SKIP_ALL = _("Skip to the storyboard")
STORYBOARD = _("Storyboard: %(title)s")
STYLE = _("Style: %(style)s")
RENDER = _("Render")
EDIT_ON_SITE = _("Edit on the site")
EDIT_LINK = _("Edit on the site: %(url)s")
QUEUED = _("Your clip is queued.")
QUEUED_AT = _("Your clip is queued: %(ahead)s renders start before it.")
RENDERING = _("Rendering: %(percent)s%%")
READY = _("Your clip is ready.")
FAILED = _("The render failed: %(reason)s")
CANCELLED = _("The render was cancelled.")
TOO_LARGE = _("Your clip is ready, but too large to send here. Watch it on the site: %(url)s")
SEND_AGAIN = _("Send")
NO_CLIPS = _("You have no clips yet. Write a scene to make one.")
YOUR_CLIPS = _("Your latest clips:")
STATE_SUCCEEDED = _("ready")
STATE_UNFINISHED = _("in progress")
STATE_FAILED = _("failed")
STATE_CANCELLED = _("cancelled")
LANGUAGE_SET = _("I will speak English.")
LANGUAGE_USAGE = _("Say /lang en or /lang ru.")
SLOW_DOWN = _("Too many messages at once: wait a minute, then go on.")
QUOTA = _("You have started %(limit)s renders today, the daily limit. It resets at 00:00 UTC.")
SPEND_CAP = _("Today's rendering budget is used up. New renders start again at 00:00 UTC.")
BUSY = _("Busy just now: try again in a few seconds.")
REFUSED = _("I cannot make this: %(reason)s")
INVALID = _("Please change this: %(problems)s")
GONE = _("That scene is not here any more. Write a new one.")
NOT_NOW = _("Not now: %(reason)s")
BY = _("by %(author)s")
ON_THE_SITE = _("Watch on the site")
