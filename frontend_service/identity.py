"""Who is asking: a Person, signed in (an account) or anonymous (a signed session cookie),
with the client address as the trusted proxy hop gives it (werkzeug's ProxyFix, set up
by the app factory from ANIMBOOKS_TRUSTED_PROXIES).

- Internal and beta sit behind Identity-Aware Proxy: every request carries IAP's signed
  `x-goog-iap-jwt-assertion`, verified here with google-auth against IAP's public keys,
  the expected audience (ANIMBOOKS_IAP_AUDIENCE) and IAP's issuer. A request without a
  valid one is refused, never taken as anonymous. The plain x-goog-authenticated-user-*
  headers are never read: anyone who reached the service around IAP could write them.
- Production: anonymous use, and sign-in with Google (blueprints/accounts.py), which
  keeps the account in the signed session cookie.
- `make run`: anonymous, and a local sign-in by email (local mode only) to try accounts
  and admins on one machine.

Admins are the accounts whose email is in ANIMBOOKS_ADMIN_EMAILS (IAP puts no groups in
its assertion, so an allowlist it is); a Google email counts only once Google verified it.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

from frontend_service import services
from infra.domain.ids import new_id
from infra.domain.user import User
from infra.settings import Settings

log = logging.getLogger(__name__)

ANONYMOUS_PREFIX = "anon-"
IAP_HEADER = "x-goog-iap-jwt-assertion"
IAP_ISSUER = "https://cloud.google.com/iap"
IAP_ALGORITHM = "ES256"
# IAP's documented allowance for clocks that differ: 30 seconds either way on exp and iat.
IAP_CLOCK_SKEW_S = 30
# The session keys: an account that signed in, an anonymous person's id, and the IAP
# account this session has already recorded.
ACCOUNT_KEY, ANONYMOUS_KEY, IAP_SEEN_KEY = "account", "user", "iap_seen"
#: An unchanged session cookie is signed and sent again once it is this old: often enough that
#: a person who keeps coming back keeps their anonymous id and account past the cookie's
#: lifetime (PERMANENT_SESSION_LIFETIME, 31 days), rarely enough that reads (the render
#: page's status requests above all) never pay for signing it.
SESSION_RENEWED_AFTER = timedelta(days=1)
#: How many checked session cookies each process remembers (a few hundred bytes each).
VERIFIED_COOKIES = 4096


@dataclass(frozen=True)
class Person:
    #: "anon-<32 hex>" (or a bare 32-hex id from an older session) when anonymous;
    #: "<provider>:<subject>" for an account ("google:...", "iap:...", "local:...").
    user_id: str
    account: bool
    #: Where the request comes from, as the limits count it (`counted_address`): the client's
    #: address from the trusted proxy hop; for IPv6, its /64.
    address: str
    email: str | None = None
    name: str | None = None
    admin: bool = False


class _SignedSession(SecureCookieSession):
    #: When the cookie it came from was signed (None: a new session).
    signed_at: datetime | None = None


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie session, sent back only when it changed or is a day old.

    Flask re-signs and re-sends a permanent session on every request
    (SESSION_REFRESH_EACH_REQUEST), a quarter of a status request's time; here an
    unchanged session's cookie is renewed at most daily (SESSION_RENEWED_AFTER)."""

    session_class = _SignedSession

    def __init__(self) -> None:
        # The cookies whose signature was checked, by their exact text (the newest VERIFIED_COOKIES):
        # a browser sends the same cookie with every request, and checking it again (an HMAC with
        # a key derived anew, the JSON read) was a fifth of a status request's time. The cookie's
        # age is still checked on every request, as the serializer's max_age checks it.
        self._verified: OrderedDict[tuple[Any, str], tuple[dict, datetime]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def open_session(self, app: Flask, request) -> _SignedSession | None:
        if not app.secret_key:  # as get_signing_serializer decides, without making one per request
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (app.secret_key, value)
        with self._verified_lock:
            verified = self._verified.get(key)
            if verified is not None:
                self._verified.move_to_end(key)
        if verified is None:
            serializer = self.get_signing_serializer(app)
            assert serializer is not None  # there is a secret key
            try:
                verified = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            with self._verified_lock:
                self._verified[key] = verified
                while len(self._verified) > VERIFIED_COOKIES:
                    self._verified.popitem(last=False)
        data, signed_at = verified
        if int(time.time()) - int(signed_at.timestamp()) > max_age:
            return self.session_class()  # expired since it was checked: what the serializer raises for
        opened = self.session_class(copy.deepcopy(data))  # the request may change its own copy
        opened.signed_at = signed_at
        return opened

    def should_set_cookie(self, app: Flask, session: SecureCookieSession) -> bool:  # type: ignore[override]
        if session.modified:
            return True
        signed_at = getattr(session, "signed_at", None)
        return session.permanent and (signed_at is None or datetime.now(UTC) - signed_at > SESSION_RENEWED_AFTER)


class NotSignedIn(Exception):
    """Behind IAP, a request whose assertion is missing or does not verify."""


class IdentityUnavailable(Exception):
    """IAP's public keys could not be fetched: nobody can be checked just now."""


def current_person() -> Person:
    """The person making this request (worked out once per request)."""
    person = g.get("person")
    if person is None:
        person = g.person = _work_out()
    return person


def current_user() -> str:
    return current_person().user_id


@lru_cache(maxsize=4096)  # on every request that works the person out; parsing IPv6 took 17 µs
def counted_address(address: str) -> str:
    """A client address as the per-address limits count it. An IPv6 client counts by its /64:
    one home or phone connection is given at least that block (RFC 6177), and may take any
    address in it, a new one for each request; counted whole, each would be a new allowance.
    An IPv4 address (mapped into IPv6 or not) counts as it is; anything else, as it came."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _work_out() -> Person:
    settings = services.adapters().settings
    address = counted_address(request.remote_addr or "")
    if settings.iap_audience:
        claims = _iap(current_app.extensions["iap_verifier"])
        email = claims["email"]
        return Person(
            user_id=f"iap:{claims['sub']}",
            account=True,
            address=address,
            email=email,
            admin=_is_admin(settings, email, verified=True),
        )
    account = session.get(ACCOUNT_KEY)
    if account:
        return Person(
            user_id=account["id"],
            account=True,
            address=address,
            email=account.get("email"),
            name=account.get("name"),
            admin=_is_admin(settings, account.get("email"), verified=account.get("verified", False)),
        )
    if ANONYMOUS_KEY not in session:
        session[ANONYMOUS_KEY] = ANONYMOUS_PREFIX + new_id()
        session.permanent = True
    return Person(user_id=session[ANONYMOUS_KEY], account=False, address=address)


def _is_admin(settings: Settings, email: str | None, verified: bool) -> bool:
    return bool(email and verified and email.strip().lower() in settings.admin_emails)


def sign_in(user: User, verified_email: bool) -> str | None:
    """Makes the session an account's. What the anonymous person made in this session
    (scenes, renders, publications) becomes the account's; the rest of the session
    (its CSRF token, Authlib's state) is dropped, so nothing from before carries over
    but the language. Returns the anonymous id whose work moved, if any."""
    adapters = services.adapters()
    adapters.records.save_user(user)  # who they are now; an admin's block stays
    anonymous = session.get(ANONYMOUS_KEY)
    if anonymous and not session.get(ACCOUNT_KEY):
        moved = adapters.records.transfer_work(anonymous, user.id) + adapters.gallery.transfer_owner(anonymous, user.id)
        log.info("signed in: %s's %d scenes, renders and publications are now %s's", anonymous, moved, user.id)
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session[ACCOUNT_KEY] = {"id": user.id, "email": user.email, "name": user.name, "verified": verified_email}
    session.permanent = True
    g.pop("person", None)
    return anonymous


def sign_out() -> None:
    """Back to a fresh anonymous session (a new id: the account's work stays with it)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    g.pop("person", None)


# -- Identity-Aware Proxy ---------------------------------------------------------------


class IapVerifier:
    """Checks IAP's signed header with google-auth, as Google's own sample does, plus the
    algorithm and the issuer IAP documents."""

    def __init__(self, audience: str, certs_url: str):
        # google-auth, requests and CacheControl are imported here, behind IAP only: a
        # site without IAP starts a third of a second sooner without them.
        import google.auth.transport.requests
        import requests
        from cachecontrol import CacheControl
        from cachecontrol.heuristics import BaseHeuristic, ExpiresAfter

        class KeysLifetime(BaseHeuristic):
            """IAP's key file, kept as long as its own cache headers say, else ten minutes: keys
            rotate, so never for ever, and never fetched on every request either."""

            def update_headers(self, response: Any) -> dict[str, str]:
                if "cache-control" in response.headers or "expires" in response.headers:
                    return {}
                return ExpiresAfter(minutes=10).update_headers(response)

        self.audience, self.certs_url = audience, certs_url
        session = CacheControl(requests.Session(), heuristic=KeysLifetime())
        self._request = google.auth.transport.requests.Request(session=session)

    def verify(self, assertion: str) -> dict[str, Any]:
        import google.auth.exceptions
        from google.auth import jwt
        from google.oauth2 import id_token

        try:
            header = jwt.decode_header(assertion)
        except (ValueError, TypeError) as error:
            raise NotSignedIn(f"the assertion is not a JWT ({error})") from None
        if header.get("alg") != IAP_ALGORITHM:
            raise NotSignedIn(f"the assertion is signed with {header.get('alg')!r}, not {IAP_ALGORITHM}")
        try:
            claims = id_token.verify_token(
                assertion,
                self._request,
                audience=self.audience,
                certs_url=self.certs_url,
                clock_skew_in_seconds=IAP_CLOCK_SKEW_S,
            )
        except google.auth.exceptions.TransportError as error:
            raise IdentityUnavailable(f"IAP's public keys could not be fetched: {error}") from None
        except (ValueError, google.auth.exceptions.GoogleAuthError) as error:
            raise NotSignedIn(str(error)) from None
        if claims.get("iss") != IAP_ISSUER:
            raise NotSignedIn(f"the assertion was issued by {claims.get('iss')!r}, not {IAP_ISSUER}")
        if not claims.get("sub") or not claims.get("email"):
            raise NotSignedIn("the assertion names no subject or no email")
        return dict(claims)


def _iap(verifier: IapVerifier) -> dict[str, Any]:
    assertion = request.headers.get(IAP_HEADER)
    if not assertion:
        raise NotSignedIn("no IAP assertion came with the request")
    try:
        return verifier.verify(assertion)
    except NotSignedIn as refusal:
        log.warning("IAP assertion refused on %s %s: %s", request.method, request.path, refusal)
        raise


def init(app: Flask) -> None:
    """Session cookies sent only when they change (SessionCookies); behind IAP, every
    request but the health checks (Cloud Run's probes do not pass through IAP) must show
    who it is before anything else runs."""
    app.session_interface = SessionCookies()
    settings = services.adapters(app).settings
    if not settings.iap_audience:
        return
    app.extensions["iap_verifier"] = IapVerifier(settings.iap_audience, settings.iap_certs_url)

    @app.before_request
    def _who_is_asking() -> None:
        if request.blueprint != "health":
            person = current_person()
            _remember(person)


def _remember(person: Person) -> None:
    """An IAP account is recorded the first time a session sees it."""
    if session.get(IAP_SEEN_KEY) != person.user_id:
        adapters = services.adapters()
        if adapters.records.get_user(person.user_id) is None:
            adapters.records.save_user(User(id=person.user_id, account=True, email=person.email))
        session[IAP_SEEN_KEY] = person.user_id


def person_or_none() -> Person | None:
    """The person for a page's header, or None where nobody could be worked out (the
    refusal page behind IAP must still draw)."""
    try:
        return current_person()
    except (NotSignedIn, IdentityUnavailable):
        return None
