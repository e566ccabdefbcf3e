"""Signing in and out.

- Sign-in with Google (OpenID Connect, through Authlib): /signin/google sends the person
  to Google with a state, a nonce and a PKCE challenge; /signin/google/callback takes the
  code back, and Authlib exchanges it and checks the ID token (signature from the
  provider's JWKS, issuer, audience, nonce, expiry).
- The local sign-in (`make run` only, never in cloud mode or behind IAP): an email and a
  name, trusted as typed, to try accounts and admins on one machine.
- Sign-out (a POST with the CSRF token, so no other site can sign anyone out) returns to
  a fresh anonymous session.

Behind IAP nobody signs in here: IAP already did, and identity.py reads its assertion.

Authlib, joserfc, requests and email-validator take a fifth of a second to import, a
third of the site's start: they load only where they are used (Google's libraries
where sign-in with Google is configured, the email check at the first local sign-in),
so `make run` does not wait for them at each start, nor the site behind IAP for Authlib,
joserfc and email-validator (there the Google Cloud clients bring requests anyway).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from frontend_service import services
from frontend_service.i18n import field_errors
from frontend_service.identity import current_person, sign_in, sign_out
from infra.domain.text import Text
from infra.domain.user import User
from infra.settings import Settings

bp = Blueprint("accounts", __name__)
log = logging.getLogger(__name__)

NEXT_KEY = "signin_next"
# Seconds one call to the OpenID provider may take (discovery, token, keys).
PROVIDER_TIMEOUT_S = 10


class LocalSignIn(BaseModel):
    model_config = ConfigDict(defer_build=True)  # EmailStr's checker is imported on first use

    email: EmailStr = Field(max_length=254)
    name: Text | None = Field(default=None, max_length=80)


def init(app: Flask) -> None:
    settings: Settings = services.adapters(app).settings
    if settings.google_sign_in:
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth(app)  # one per app: each holds its own provider's metadata and keys
        assert settings.google_client_secret is not None  # the settings hold them together
        oauth.register(
            "google",
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret.get_secret_value(),
            server_metadata_url=settings.google_discovery_url,
            client_kwargs={
                "scope": "openid email profile",
                "code_challenge_method": "S256",
                "default_timeout": PROVIDER_TIMEOUT_S,
            },
        )


def _settings() -> Settings:
    return services.adapters().settings


def _google():
    return current_app.extensions["authlib.integrations.flask_client"].google


def safe_next(target: str | None) -> str:
    """Where to go after signing in or out: a path on this site only, never another site
    (`//evil.example`, `https://...`, `/\\evil.example`)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@bp.get("/signin")
def signin_page():
    settings = _settings()
    return render_template(
        "signin.html",
        person=current_person(),
        google=settings.google_sign_in,
        local=settings.local_sign_in,
        behind_iap=bool(settings.iap_audience),
        next=safe_next(request.args.get("next")),
        form={},
        error=None,
    )


@bp.get("/signin/google")
def google_start():
    if not _settings().google_sign_in:
        abort(404)
    import requests

    session[NEXT_KEY] = safe_next(request.args.get("next"))
    try:
        return _google().authorize_redirect(url_for("accounts.google_callback", _external=True))
    except requests.RequestException as error:
        log.warning("sign-in with Google: the provider's discovery document could not be read: %s", error)
        return _failed(503, _("Google's sign-in could not be reached just now. Try again in a minute."))


@bp.get("/signin/google/callback")
def google_callback():
    if not _settings().google_sign_in:
        abort(404)
    import requests
    from authlib.integrations.flask_client import OAuthError
    from joserfc.errors import JoseError

    google = _google()
    try:
        # Authlib checks the issuer by default but the audience only when told to (OpenID
        # Connect Core 3.1.3.7: the ID token's aud must hold our client id).
        issuer = google.load_server_metadata()["issuer"]
        claims_options = {
            "iss": {"essential": True, "values": [issuer]},
            "aud": {"essential": True, "values": [google.client_id]},
        }
        token = google.authorize_access_token(claims_options=claims_options)
    except OAuthError as error:  # refused at Google, or a state that is not this session's
        log.info("sign-in with Google did not finish: %s", error)
        return _failed(400, _("Sign-in with Google did not finish. Start again from the sign-in page."))
    except JoseError as error:  # an ID token whose signature or claims do not hold
        log.warning("sign-in with Google: the ID token was refused: %s", error)
        return _failed(400, _("Google's answer could not be checked. Start again from the sign-in page."))
    except requests.RequestException as error:
        log.warning("sign-in with Google: the provider could not be reached: %s", error)
        return _failed(503, _("Google's sign-in could not be reached just now. Try again in a minute."))
    claims = token.get("userinfo") or {}
    if not claims.get("sub"):
        return _failed(400, _("Google's answer could not be checked. Start again from the sign-in page."))
    user = User(id=f"google:{claims['sub']}", account=True, email=claims.get("email"), name=claims.get("name"))
    target = safe_next(session.get(NEXT_KEY))
    sign_in(user, verified_email=claims.get("email_verified") is True)
    return redirect(target)


@bp.post("/signin/local")
def local_signin():
    settings = _settings()
    if not settings.local_sign_in:
        abort(404)
    target = safe_next(request.form.get("next"))
    try:
        form = LocalSignIn.model_validate({k: v for k, v in request.form.items() if k in ("email", "name") and v})
    except ValidationError as error:
        problems = "; ".join(f"{item.field}: {item.message}" for item in field_errors(error))
        page = render_template(
            "signin.html",
            person=current_person(),
            google=settings.google_sign_in,
            local=True,
            behind_iap=False,
            next=target,
            form=request.form,
            error=_("Please correct: %(problems)s", problems=problems),
        )
        return page, 422
    email = form.email.lower()
    sign_in(User(id=f"local:{email}", account=True, email=email, name=form.name), verified_email=True)
    return redirect(target)


@bp.post("/signout")
def signout():
    sign_out()
    return redirect(safe_next(request.form.get("next")))


def _failed(status: int, message: str):
    return render_template("error.html", status=status, message=message), status
