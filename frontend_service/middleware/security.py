"""CSRF, security headers and rate limits, from the well-kept libraries.

Flask-WTF checks the X-CSRFToken header on every state-changing request; Talisman
sets a content security policy with no 'unsafe-inline' (every script and style is a
file the app serves); Flask-Limiter limits the dialogue and render endpoints per user.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import UnsupportedMediaType

from frontend_service.identity import current_person

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "media-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _user_or_address() -> str:
    person = current_person()
    return person.user_id or person.address


csrf = CSRFProtect()
limiter = Limiter(key_func=_user_or_address, storage_uri="memory://", headers_enabled=True)


CHANGES = ("POST", "PUT", "PATCH", "DELETE")


def _api_speaks_json() -> None:
    """An API change with a body that is not JSON is refused before anything is read: the
    API speaks JSON, and a form or text/plain body is what a page on another site can send
    without asking first (the CSRF token stops that too; this is the second lock)."""
    if not request.path.startswith("/api/") or request.method not in CHANGES:
        return
    has_body = request.content_length or request.headers.get("Transfer-Encoding")
    if has_body and request.mimetype != "application/json":
        raise UnsupportedMediaType()


def init(app: Flask) -> None:
    csrf.init_app(app)
    app.before_request(_api_speaks_json)  # after the CSRF check, before any blueprint's
    limiter.init_app(app)
    Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        referrer_policy="same-origin",
    )
