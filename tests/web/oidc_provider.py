"""A local OpenID Connect provider standing in for Google's, on pytest-httpserver, speaking
the protocol as OpenID Connect Core 1.0 and RFC 6749/7636 write it: a discovery document,
the authorization endpoint (the authorization code flow, PKCE with S256), the token
endpoint (client_secret_basic, one use per code), the JWKS and userinfo. It checks what a
real provider checks (client, redirect URI, scope, code verifier, secret) and signs its ID
tokens with RS256, as Google does; `id_token_changes` and `signing_key` let a test make
a bad answer on purpose."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CLIENT_ID, CLIENT_SECRET = "animbooks-test.apps.example", "a-client-secret"
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass
class Grant:
    redirect_uri: str
    nonce: str | None
    challenge: str
    user: dict[str, Any]


@dataclass
class Provider:
    server: HTTPServer
    redirect_uri: str
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "provider-1"}))
    #: Who signs in next: the claims Google would put in the ID token.
    user: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "110248495921238986420",
            "email": "sonya@example.com",
            "email_verified": True,
            "name": "Sonya Marmeladova",
        }
    )
    #: Changes to the next ID token's claims (a wrong nonce, audience, issuer, expiry).
    id_token_changes: dict[str, Any] = field(default_factory=dict)
    #: Sign the ID token with another key than the one the JWKS publishes.
    signing_key: RSAKey | None = None
    grants: dict[str, Grant] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return self.server.url_for("").rstrip("/")

    @property
    def discovery_url(self) -> str:
        return self.server.url_for(DISCOVERY_PATH)

    def install(self) -> Provider:
        self.server.expect_request(DISCOVERY_PATH).respond_with_json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.server.url_for("/o/oauth2/v2/auth"),
                "token_endpoint": self.server.url_for("/token"),
                "userinfo_endpoint": self.server.url_for("/v1/userinfo"),
                "jwks_uri": self.server.url_for("/oauth2/v3/certs"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "code_challenge_methods_supported": ["plain", "S256"],
            }
        )
        self.server.expect_request("/o/oauth2/v2/auth").respond_with_handler(self._authorize)
        self.server.expect_request("/token", method="POST").respond_with_handler(self._token)
        self.server.expect_request("/oauth2/v3/certs").respond_with_json({"keys": [self.key.as_dict(private=False)]})
        self.server.expect_request("/v1/userinfo").respond_with_handler(self._userinfo)
        return self

    def _authorize(self, request: Request) -> Response:
        query = request.args.to_dict()
        self.authorize_requests.append(query)
        problems = []
        if query.get("client_id") != CLIENT_ID:
            problems.append("unknown client")
        if query.get("redirect_uri") != self.redirect_uri:
            problems.append("redirect_uri is not registered")
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            problems.append("response_type=code and the openid scope are needed")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problems.append("PKCE with S256 is needed")
        if problems:  # a real provider shows an error page and never redirects to an unknown URI
            return Response("; ".join(problems), status=400)
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(query["redirect_uri"], query.get("nonce"), query["code_challenge"], dict(self.user))
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return Response(status=302, headers={"Location": location})

    def _token(self, request: Request) -> Response:
        form = request.form
        basic = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if basic != expected:
            return _error("invalid_client", 401)
        grant = self.grants.pop(form.get("code", ""), None)  # a code is good once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return _error("invalid_grant")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error("invalid_grant")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if challenge != grant.challenge:
            return _error("invalid_grant")
        issued = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "iat": issued,
            "exp": issued + 3600,
            **({"nonce": grant.nonce} if grant.nonce else {}),
            **grant.user,
        } | self.id_token_changes
        key = self.signing_key or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid or "provider-1"}, claims, key)
        return _json(
            {
                "access_token": f"access-{grant.user['sub']}",
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid email profile",
                "id_token": id_token,
            }
        )

    def _userinfo(self, request: Request) -> Response:
        if not request.headers.get("Authorization", "").startswith("Bearer access-"):
            return _error("invalid_token", 401)
        return _json(self.user)

    def follow(self, authorize_url: str) -> str:
        """What the person's browser does at Google: the provider's answer to the
        authorization request, which is a redirect back to the site; returns its path and query."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(authorize_url, timeout=10)
        except urllib.error.HTTPError as answer:
            with answer:
                assert answer.code == 302, answer.read()
                location = answer.headers["Location"]
        else:  # pragma: no cover - the provider always redirects or refuses
            raise AssertionError("the provider did not redirect")
        parts = urlsplit(location)
        return f"{parts.path}?{parts.query}"


def _json(body: dict) -> Response:
    return Response(json.dumps(body), status=200, content_type="application/json")


def _error(code: str, status: int = 400) -> Response:
    return Response(json.dumps({"error": code}), status=status, content_type="application/json")
