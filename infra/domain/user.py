"""A person the records know: an anonymous visitor (a signed session cookie) or an
account (signed in through IAP, Google, or the local sign-in of `make run`).

Ids say which: an account's id is "<provider>:<subject>" ("iap:accounts.google.com:1234",
"google:1234", "local:ann@example.com", "telegram:123456789" for a Telegram user); an
anonymous id is "anon-<32 hex>" (or a bare 32-hex id from an older session) and never
holds a colon.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from infra.domain.ids import now

ACCOUNT_PROVIDERS = ("iap", "google", "local", "telegram")


def is_account(user_id: str) -> bool:
    """Whether the id is an account's (signed in) rather than an anonymous visitor's."""
    provider, colon, subject = user_id.partition(":")
    return bool(colon) and provider in ACCOUNT_PROVIDERS and bool(subject)


class User(BaseModel):
    id: str
    #: Signed in (an account), rather than an anonymous visitor.
    account: bool = False
    email: str | None = None
    name: str | None = None
    #: An admin stopped this account from publishing to the gallery (it may again when
    #: an admin lets it).
    publishing_blocked: bool = False
    #: The plan an admin assigned (infra.domain.plan); None: the free plan.
    plan: str | None = None
    #: The language chosen for this person in a chat (Telegram's /lang); None: their client's.
    language: str | None = None
    #: The scene a chat with this person is on (Telegram): plain text answers its questions.
    chat_scene: str | None = None
    created_at: datetime = Field(default_factory=now)
