"""Who is asking: a Person, signed in (an account) or anonymous (a signed session cookie),
with the client address as the trusted proxy hop gives it (werkzeug's ProxyFix, set up
by the app factory from ANIMBOOKS_TRUSTED_PROXIES)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request, session

from infra.domain.ids import new_id

ANONYMOUS_PREFIX = "anon-"


@dataclass(frozen=True)
class Person:
    #: "anon-<32 hex>" (or a bare 32-hex id from an older session) when anonymous;
    #: "<provider>:<subject>" for an account ("google:...", "iap:...", "local:...").
    user_id: str
    account: bool
    #: The client's address from the trusted proxy hop.
    address: str
    email: str | None = None
    name: str | None = None
    admin: bool = False


def current_person() -> Person:
    """The person making this request (worked out once per request)."""
    person = g.get("person")
    if person is None:
        person = g.person = _anonymous()
    return person


def current_user() -> str:
    return current_person().user_id


def _anonymous() -> Person:
    if "user" not in session:
        session["user"] = ANONYMOUS_PREFIX + new_id()
        session.permanent = True
    return Person(user_id=session["user"], account=False, address=request.remote_addr or "")
