"""Behind Identity-Aware Proxy (internal and beta): who is asking comes from IAP's signed
`x-goog-iap-jwt-assertion` only. The assertions here are made the way IAP makes them
(ES256, a key id, IAP's issuer, the service's audience) with google-auth's own signer,
and their public keys are served as IAP serves them (a JSON object of key id -> PEM) by
a local HTTP server the site fetches them from."""

from __future__ import annotations

import base64
import dataclasses
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from google.auth import crypt, jwt
from google.auth.crypt import es256
from pytest_httpserver import HTTPServer

from frontend_service import create_app
from frontend_service.identity import IAP_HEADER
from tests.conftest import ADMIN_EMAIL

AUDIENCE = "/projects/123456789/locations/europe-west4/services/animbooks-web"
ISSUER = "https://cloud.google.com/iap"
KEYS_PATH = "/iap/verify/public_key"


def _pem(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclasses.dataclass
class Iap:
    """IAP's signing keys, published at a local address; makes assertions."""

    server: HTTPServer
    keys: dict[str, ec.EllipticCurvePrivateKey]

    @property
    def certs_url(self) -> str:
        return self.server.url_for(KEYS_PATH)

    def assertion(self, kid: str = "iap-1", signer: crypt.Signer | None = None, **changes) -> str:
        issued = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "accounts.google.com:118000000000000000001",
            "email": "sonya@example.com",
            "hd": "example.com",
            "iat": issued,
            "exp": issued + 600,  # IAP's assertions live ten minutes
        } | changes
        claims = {name: value for name, value in claims.items() if value is not None}
        signer = signer or es256.ES256Signer.from_string(_pem(self.keys[kid]), key_id=kid)
        return jwt.encode(signer, claims).decode()

    def key_fetches(self) -> int:
        return sum(1 for request, _ in self.server.log if request.path == KEYS_PATH)


@pytest.fixture
def iap(httpserver: HTTPServer) -> Iap:
    keys = {kid: ec.generate_private_key(ec.SECP256R1()) for kid in ("iap-1", "iap-2")}
    httpserver.expect_request(KEYS_PATH).respond_with_json({kid: _public_pem(key) for kid, key in keys.items()})
    return Iap(httpserver, keys)


@pytest.fixture
def site(adapters, iap):
    settings = adapters.settings.model_copy(update={"iap_audience": AUDIENCE, "iap_certs_url": iap.certs_url})
    return create_app({"TESTING": True, "START_WORKER": False}, dataclasses.replace(adapters, settings=settings))


def asking(site, assertion: str | None, path: str = "/api/session", **headers):
    if assertion is not None:
        headers[IAP_HEADER] = assertion
    return site.test_client().get(path, headers=headers)


def test_a_valid_assertion_is_the_person_and_never_anonymous(site, iap, adapters):
    response = asking(site, iap.assertion())
    assert response.status_code == 200
    body = response.get_json()
    assert (body["user"], body["account"], body["admin"]) == (
        "iap:accounts.google.com:118000000000000000001",
        True,
        False,
    )
    user = adapters.records.get_user(body["user"])
    assert user is not None and (user.account, user.email) == (True, "sonya@example.com")


def test_an_admin_behind_iap_is_named_by_the_email_in_the_assertion(site, iap):
    admin = asking(site, iap.assertion(email=ADMIN_EMAIL.upper(), sub="accounts.google.com:7"))
    assert admin.get_json()["admin"] is True
    assert asking(site, iap.assertion(email=ADMIN_EMAIL.upper()), "/reports").status_code == 200
    assert asking(site, iap.assertion(), "/reports").status_code == 403  # signed in, not an admin


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("wrong audience", {"aud": "/projects/123456789/locations/europe-west4/services/another-service"}),
        ("another project's number", {"aud": "/projects/987654321/locations/europe-west4/services/animbooks-web"}),
        ("expired a minute ago, past the 30 s allowance", {"exp": -60}),
        ("issued a minute from now", {"iat": 60}),
        ("wrong issuer", {"iss": "https://accounts.google.com"}),
        ("no issuer", {"iss": None}),
        ("no email", {"email": None}),
    ],
)
def test_an_assertion_that_does_not_hold_is_refused(site, iap, case, changes):
    now = int(time.time())
    changes = {name: now + value if name in ("exp", "iat") else value for name, value in changes.items()}
    response = asking(site, iap.assertion(**changes))
    assert response.status_code == 403, case
    assert response.get_json()["error"]["code"] == "identity_required", case


def test_an_assertion_inside_the_clock_allowance_is_taken(site, iap):
    """IAP allows clocks 30 s apart: an assertion expired 10 s ago still holds."""
    now = int(time.time())
    assert asking(site, iap.assertion(exp=now - 10, iat=now - 610)).status_code == 200


def test_an_assertion_signed_by_another_key_is_refused(site, iap):
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = es256.ES256Signer.from_string(_pem(stranger), key_id="iap-1")  # IAP's key id, not its key
    assert asking(site, iap.assertion(signer=forged)).status_code == 403
    unknown = es256.ES256Signer.from_string(_pem(stranger), key_id="not-iap")
    assert asking(site, iap.assertion(signer=unknown)).status_code == 403
    assert asking(site, iap.assertion(kid="iap-2")).status_code == 200  # IAP's other published key


def test_only_es256_is_taken(site, iap):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rs256 = crypt.RSASigner.from_string(_pem(rsa_key), key_id="iap-1")
    assert asking(site, iap.assertion(signer=rs256)).status_code == 403
    header, payload, _ = iap.assertion().split(".")
    none = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).decode().rstrip("=")
    assert asking(site, f"{none}.{payload}.").status_code == 403
    assert asking(site, f"{header}.{payload}.").status_code == 403  # the signature cut off


def test_without_an_assertion_nobody_gets_in_not_even_with_iap_s_plain_headers(site, iap):
    plain = {
        "X-Goog-Authenticated-User-Email": f"accounts.google.com:{ADMIN_EMAIL}",
        "X-Goog-Authenticated-User-Id": "accounts.google.com:7",
    }
    for path in ("/api/session", "/reports", "/metrics", "/"):
        response = asking(site, None, path, **plain)
        assert response.status_code == 403, path
    page = asking(site, None, "/")
    assert "Identity-Aware Proxy" in page.get_data(as_text=True)  # a page that says why, not a stack trace
    assert asking(site, "not a jwt at all").status_code == 403
    assert asking(site, "").status_code == 403
    api = asking(site, None)
    assert api.get_json()["error"]["code"] == "identity_required"


def test_a_post_without_an_assertion_is_refused_before_its_csrf_check(site):
    response = site.test_client().post("/api/scenes", json={"text": "A lighthouse."})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "identity_required"


def test_cloud_run_s_probes_need_no_assertion(site):
    client = site.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_iap_s_keys_are_fetched_once_not_on_every_request(site, iap):
    for _ in range(3):
        assert asking(site, iap.assertion()).status_code == 200
    assert iap.key_fetches() == 1


def test_keys_that_cannot_be_fetched_make_a_503_not_an_entry(adapters, httpserver):
    httpserver.expect_request("/down").respond_with_data("unavailable", status=503)
    settings = adapters.settings.model_copy(
        update={"iap_audience": AUDIENCE, "iap_certs_url": httpserver.url_for("/down")}
    )
    site = create_app({"TESTING": True, "START_WORKER": False}, dataclasses.replace(adapters, settings=settings))
    keys = {"iap-1": ec.generate_private_key(ec.SECP256R1())}
    token = Iap(httpserver, keys).assertion()
    response = asking(site, token)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.get_json()["error"]["code"] == "identity_unavailable"


def test_behind_iap_there_is_no_local_or_google_sign_in(site, iap):
    client = site.test_client()
    headers = {IAP_HEADER: iap.assertion()}
    token = client.get("/api/session", headers=headers).get_json()["csrf_token"]
    local = client.post("/signin/local", data={"email": ADMIN_EMAIL}, headers=headers | {"X-CSRFToken": token})
    assert local.status_code == 404
    assert client.get("/signin/google", headers=headers).status_code == 404
    page = client.get("/signin", headers=headers).get_data(as_text=True)
    assert "Identity-Aware Proxy" in page and 'name="email"' not in page
    assert client.get("/api/session", headers=headers).get_json()["user"].startswith("iap:")
