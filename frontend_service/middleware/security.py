"""CSRF, security headers and rate limits, from the well-kept libraries.

Flask-WTF checks the X-CSRFToken header on every state-changing request; Talisman
sets a content security policy with no 'unsafe-inline' (every script and style is a
file the app serves); Flask-Limiter limits the dialogue, render, vote and report
endpoints per account, and per client address for anonymous visitors (a new cookie is
not a new allowance). Its counts live in the shared counters (infra.counters: SQLite on
one machine, Firestore on Google Cloud), so every process and instance counts together.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from limits.storage import Storage
from werkzeug.exceptions import UnsupportedMediaType

from frontend_service import services
from frontend_service.identity import current_person
from infra.counters import Contended, Counters
from infra.domain.ids import now

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


def _account_or_address() -> str:
    person = current_person()
    return person.user_id if person.account else f"address:{person.address}"


class CountersStorage(Storage):
    """The `limits` storage scheme `animbooks://`: fixed windows on the app's shared
    counters. One storage object serves the module's one limiter, so it finds the
    counters of the app handling the request (two apps in one process count apart)."""

    STORAGE_SCHEME = ["animbooks"]  # noqa: RUF012  (limits' registry reads the class attribute)

    @property
    def base_exceptions(self) -> type[Exception]:
        return Exception  # whatever the counters' store raises

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        try:
            return _counters().add(key, amount, now() + timedelta(seconds=expiry))
        except Contended:
            return sys.maxsize  # a count changing faster than it can be written is past any limit

    def get(self, key: str) -> int:
        return _counters().value(key)

    def get_expiry(self, key: str) -> float:
        expires = _counters().expires_at(key)
        return expires.timestamp() if expires else time.time()

    def check(self) -> bool:
        try:
            _counters().check()
        except Exception:
            return False
        return True

    def reset(self) -> int | None:
        raise NotImplementedError("rate limits expire on their own; clear one key with clear()")

    def clear(self, key: str) -> None:
        _counters().clear(key)


def _counters() -> Counters:
    return services.adapters().counters


class _Talisman(Talisman):
    """Talisman, with its headers worked out once. No view has options of its own (Talisman's
    per-view decorator is not used here), so every response gets the same headers; Talisman
    would look the view's options up three times and parse the policy again for each one.
    Strict-Transport-Security depends on the request, so it is still decided per response."""

    _fixed_headers: list[tuple[str, str]] | None = None

    def _set_response_headers(self, response: Response) -> Response:
        if self._fixed_headers is None:
            probe = Response()
            super()._set_response_headers(probe)
            probe.headers.pop("Strict-Transport-Security", None)
            self._fixed_headers = [item for item in probe.headers.items() if item[0] not in Response().headers]
        response.headers.update(self._fixed_headers)
        self._set_hsts_headers(response.headers)
        return response

    def _make_nonce(self) -> None:
        if self.content_security_policy_nonce_in:  # no policy here asks for a nonce
            super()._make_nonce()

    def _force_https(self):
        if self.force_https:
            return super()._force_https()
        return None


csrf = CSRFProtect()
limiter = Limiter(key_func=_account_or_address, storage_uri="animbooks://", headers_enabled=True)


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
    # Flask-Limiter keeps one `enabled` for every app in the process, set by the last app
    # built, and took its default from its own last value: an app built with limits off (a
    # test's) left every later app without them. Each app now defaults to on.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    # Every limit is a route's own (@limiter.limit), checked by the route's wrapper as it runs;
    # with no default or application-wide limit, the check Flask-Limiter adds before every
    # request finds nothing to count, and costs a tenth of a status request's time.
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks:  # not there when RATELIMIT_ENABLED is off
        checks.remove(limiter._check_request_limit)
    _Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        referrer_policy="same-origin",
    )
