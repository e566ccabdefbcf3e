"""Who is asking: an anonymous person identified by a signed session cookie."""

from __future__ import annotations

from flask import session

from infra.domain.ids import new_id


def current_user() -> str:
    if "user" not in session:
        session["user"] = new_id()
        session.permanent = True
    return session["user"]
