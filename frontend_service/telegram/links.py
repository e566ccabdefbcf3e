"""Links from a chat to the site, signed for the Telegram user they were made for.

"Edit on the site" opens the chat's scene in a browser signed in as the same account
(`telegram:<id>`), so the storyboard edited there is the one the chat renders. The link
is the site's secret key's signature (itsdangerous, as Flask's own session) over who and
where; it lasts a day, and anyone holding it acts as that person on the site until then,
as with any sign-in link, so it is sent only into that person's chat.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_AGE_S = 24 * 3600
SALT = "telegram-open"
#: Where a link may lead: a scene or a render of the person's own.
PLACES = ("/scenes/", "/renders/")


@dataclass(frozen=True)
class Opening:
    user_id: str
    name: str | None
    path: str


class BadLink(Exception):
    """Not a link this site signed, or one past its day."""


class SiteLinks:
    def __init__(self, site_url: str, secret_key: str):
        self._site_url = site_url
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)

    def open_url(self, user_id: str, name: str | None, path: str) -> str:
        if not path.startswith(PLACES):
            raise ValueError(f"a link leads to a scene or a render, not {path}")
        token = self._serializer.dumps({"user": user_id, "name": name, "path": path})
        return f"{self._site_url}/telegram/open/{token}"

    def gallery_url(self, render_id: str) -> str:
        return f"{self._site_url}/gallery/{render_id}"

    def read(self, token: str) -> Opening:
        try:
            data = self._serializer.loads(token, max_age=MAX_AGE_S)
        except BadSignature as error:  # SignatureExpired is one
            raise BadLink(str(error)) from None
        path = data.get("path", "") if isinstance(data, dict) else ""
        user = data.get("user", "") if isinstance(data, dict) else ""
        if not (isinstance(path, str) and path.startswith(PLACES) and isinstance(user, str) and user):
            raise BadLink("the link names no place of the site")
        return Opening(user_id=user, name=data.get("name"), path=path)
