"""CSRF, security headers and rate limits, from the well-kept libraries.

Flask-WTF checks the X-CSRFToken header on every state-changing request; Talisman
sets a content security policy with no 'unsafe-inline' (every script and style is a
file the app serves); Flask-Limiter limits the dialogue and render endpoints per user.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

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


def init(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        referrer_policy="same-origin",
    )
