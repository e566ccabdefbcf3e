"""Signing in: with Google (OpenID Connect through Authlib, against a local provider that
speaks the protocol, tests/web/oidc_provider.py), and `make run`'s local sign-in. What an
anonymous person made comes with them; signing out starts a fresh anonymous session."""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc.jwk import RSAKey

from frontend_service import create_app
from infra.domain.publication import Publication
from infra.settings import Settings
from tests.conftest import ADMIN_EMAIL, ApiClient, google_account_session, signed_in, user_of
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

CALLBACK = "http://localhost/signin/google/callback"


@pytest.fixture
def provider(httpserver) -> Provider:
    return Provider(httpserver, redirect_uri=CALLBACK).install()


def app_with(adapters, **settings):
    """The site over the same stores with other settings, checked as the environment's are."""
    changed = Settings.model_validate(adapters.settings.model_dump() | settings)
    return create_app({"TESTING": True, "START_WORKER": False}, dataclasses.replace(adapters, settings=changed))


@pytest.fixture
def site(adapters, provider):
    """Production's shape: cloud mode (so no local sign-in), sign-in with Google."""
    return app_with(
        adapters,
        mode="cloud",
        gcp_project="books-prod",
        renders_bucket="books-prod-renders",
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        google_discovery_url=provider.discovery_url,
    )


def start(client, next_path: str = "/renders") -> str:
    response = client.get("/signin/google", query_string={"next": next_path})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def with_google(client, provider: Provider, next_path: str = "/renders"):
    """The whole round: the site sends the browser to the provider, the provider sends it back."""
    return client.get(provider.follow(start(client, next_path)))


def session_of(client) -> dict:
    return client.get("/api/session").get_json()


def test_signing_in_with_google_makes_an_account(site, provider, adapters):
    client = site.test_client()
    assert session_of(client)["account"] is False
    authorize = urlsplit(start(client))
    query = {name: values[0] for name, values in parse_qs(authorize.query).items()}
    assert f"{authorize.scheme}://{authorize.netloc}" == provider.issuer
    assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == CALLBACK
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == "S256" and query["state"] and query["nonce"]
    callback = client.get(provider.follow(urlsplit(start(client)).geturl()))
    assert callback.status_code == 302 and callback.headers["Location"] == "/renders"
    me = session_of(client)
    assert (me["user"], me["account"], me["admin"]) == ("google:110248495921238986420", True, False)
    user = adapters.records.get_user(me["user"])
    assert user is not None and (user.email, user.name, user.account) == (
        "sonya@example.com",
        "Sonya Marmeladova",
        True,
    )
    assert "Signed in as Sonya Marmeladova" in client.get("/gallery").get_data(as_text=True)


def test_a_verified_admin_email_makes_an_admin_and_an_unverified_one_does_not(site, provider):
    provider.user = {"sub": "42", "email": ADMIN_EMAIL, "email_verified": True}
    admin = site.test_client()
    with_google(admin, provider)
    assert session_of(admin)["admin"] is True and admin.get("/moderation").status_code == 200
    provider.user = {"sub": "43", "email": ADMIN_EMAIL, "email_verified": False}
    pretender = site.test_client()
    with_google(pretender, provider)
    assert session_of(pretender)["admin"] is False and pretender.get("/moderation").status_code == 403


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("another client's token", {"aud": "someone-else.apps.example"}),
        ("another issuer", {"iss": "https://accounts.example.net"}),
        ("expired an hour ago", {"exp": -3600, "iat": -7200}),
        ("a nonce from another sign-in", {"nonce": "replayed"}),
    ],
)
def test_an_id_token_that_does_not_hold_signs_nobody_in(site, provider, case, changes):
    now = int(time.time())
    provider.id_token_changes = {k: now + v if k in ("exp", "iat") else v for k, v in changes.items()}
    client = site.test_client()
    before = session_of(client)["user"]
    answer = with_google(client, provider)
    assert answer.status_code == 400, case
    assert "Start again from the sign-in page" in answer.get_data(as_text=True)
    assert session_of(client)["user"] == before  # still the same anonymous person


def test_an_id_token_signed_with_another_key_signs_nobody_in(site, provider):
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "provider-1"})
    client = site.test_client()
    assert with_google(client, provider).status_code == 400
    assert session_of(client)["account"] is False


def test_a_callback_that_is_not_this_browser_s_sign_in_is_refused(site, provider):
    """Login CSRF: a code obtained in an attacker's browser, replayed into a victim's."""
    attacker, victim = site.test_client(), site.test_client()
    callback = provider.follow(start(attacker))
    assert victim.get(callback).status_code == 400
    assert session_of(victim)["account"] is False
    # The code is good once: after the attacker uses it, a second use fails too.
    assert attacker.get(callback).status_code == 302
    assert attacker.get(callback).status_code == 400


def test_refusing_at_google_comes_back_as_a_clear_page(site):
    client = site.test_client()
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    answer = client.get("/signin/google/callback", query_string={"error": "access_denied", "state": state})
    assert answer.status_code == 400 and "did not finish" in answer.get_data(as_text=True)


def test_an_unreachable_provider_is_a_503(adapters):
    site = app_with(
        adapters,
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        google_discovery_url="http://127.0.0.1:9/.well-known/openid-configuration",  # nothing listens
    )
    answer = site.test_client().get("/signin/google")
    assert answer.status_code == 503 and "could not be reached" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/gallery?sort=new", "/gallery?sort=new"),
        ("//evil.example/steal", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_after_signing_in_the_site_returns_only_to_its_own_pages(site, provider, asked, goes_to):
    assert with_google(site.test_client(), provider, asked).headers["Location"] == goes_to


def test_an_anonymous_person_s_work_comes_with_them_and_signing_out_starts_afresh(
    site, provider, adapters, finished_render
):
    client = site.test_client()
    anonymous = ApiClient(client)
    anonymous_id = user_of(anonymous)
    render = finished_render(anonymous)
    legacy = Publication(render_id=render.id, owner_id=anonymous_id, owner="Reader", title="t", style="ink")
    adapters.gallery.publish(legacy)  # published before accounts were needed
    assert with_google(client, provider).status_code == 302
    account = ApiClient(client)
    account_id = user_of(account)
    assert [r["id"] for r in account.get("/api/renders").get_json()["items"]] == [render.id]
    scene = account.get(f"/api/scenes/{render.scene_id}")
    assert scene.status_code == 200
    assert adapters.records.list_renders(anonymous_id) == []
    assert adapters.gallery.get(render.id).owner_id == account_id

    signed_out = account.post("/signout")
    assert signed_out.status_code == 302 and signed_out.headers["Location"] == "/"
    fresh = ApiClient(client)
    me = session_of(client)
    assert me["account"] is False and me["user"] not in (anonymous_id, account_id)
    assert fresh.get("/api/renders").get_json()["items"] == []
    assert fresh.get(f"/api/renders/{render.id}").status_code == 404  # the account's, not this session's

    # Signing in again later finds the work, and brings this new session's along too.
    newer = finished_render(fresh)
    assert with_google(client, provider).status_code == 302
    again = ApiClient(client)
    assert {r["id"] for r in again.get("/api/renders").get_json()["items"]} == {render.id, newer.id}


def test_signing_out_needs_the_csrf_token(site, provider):
    client = site.test_client()
    with_google(client, provider)
    assert client.post("/signout").status_code == 400  # another site's form cannot sign anyone out
    assert session_of(client)["account"] is True


def test_the_local_sign_in_is_offered_on_one_machine_only(app, adapters, provider, site):
    page = app.test_client().get("/signin").get_data(as_text=True)
    assert 'action="/signin/local"' in page and "Sign in with Google" not in page
    cloud = site.test_client()
    cloud_page = cloud.get("/signin").get_data(as_text=True)
    assert "Sign in with Google" in cloud_page and 'action="/signin/local"' not in cloud_page
    token = session_of(cloud)["csrf_token"]
    refused = cloud.post("/signin/local", data={"email": ADMIN_EMAIL}, headers={"X-CSRFToken": token})
    assert refused.status_code == 404 and session_of(cloud)["account"] is False
    no_google = app.test_client()
    assert no_google.get("/signin/google").status_code == 404
    assert no_google.get("/signin/google/callback?code=x&state=y").status_code == 404


def test_the_local_sign_in_checks_the_address(app):
    person = ApiClient(app.test_client())
    before = user_of(person)
    for email in ("", "not an address", "a@b", "x" * 250 + "@example.com"):
        answer = person.post("/signin/local", data={"email": email, "name": "Ann"})
        assert answer.status_code == 422, email
        assert "Please correct" in answer.get_data(as_text=True)
        assert user_of(person) == before
    ann = signed_in(app, "Ann@Example.com", "Ann")
    assert user_of(ann) == "local:ann@example.com"


def test_the_sign_in_page_speaks_russian(app):
    page = app.test_client().get("/signin", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Войти" in page and "Sign in" not in page


def test_a_session_cookie_made_with_another_key_is_nobody(app, adapters):
    """A cookie that claims an admin's account, signed with a key that is not the site's,
    is thrown away: the person is a new anonymous visitor."""
    forger = create_app({"TESTING": True, "START_WORKER": False, "SECRET_KEY": "not-the-site-s-key"}, adapters)
    forged = google_account_session(forger, ADMIN_EMAIL)
    cookie = forged.get_cookie("session")
    assert cookie is not None
    victim = app.test_client()
    victim.set_cookie("session", cookie.value)
    me = session_of(victim)
    assert (me["account"], me["admin"]) == (False, False) and me["user"].startswith("anon-")
    assert victim.get("/moderation").status_code == 403
