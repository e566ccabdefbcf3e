"""Admins alone see the reports, the metrics and the moderation, in the site and in the
API. The admin routes are found from the app's URL map, so a route added later to a
guarded blueprint (or marked admin-only) is held here without a change to this test."""

from __future__ import annotations

import dataclasses
import re

import pytest
from pydantic import SecretStr
from werkzeug.routing import Rule

from frontend_service import create_app
from frontend_service.roles import ADMIN_ONLY, GUARDED
from tests.conftest import ADMIN_EMAIL, ApiClient, signed_in

# Where admin-only things live: any route under these is expected to be guarded.
ADMIN_PREFIXES = ("/reports", "/metrics", "/moderation", "/api/moderation", "/plans", "/api/plans")
# A value for each kind of URL part, so that every admin route can be asked for.
PARTS = {"render_id": "0" * 32, "name": "daily_cost", "user_id": "google:1001"}
# What the admin routes that change something with a body are sent (the others need none).
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/plans"): {"data": {"name": "studio", "clip_seconds": ["30", "60"], "daily_renders": "50"}},
    ("POST", "/plans/accounts"): {"data": {"user_id": "local:sonya@example.com", "plan": "free"}},
    ("PUT", "/api/plans/<name>"): {"json": {"clip_seconds": [15, 30], "daily_renders": 5}},
    ("PUT", "/api/plans/accounts/<user_id>"): {"json": {"plan": None}},
}


def admin_routes(app) -> list[tuple[str, Rule]]:
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint in GUARDED or getattr(view, ADMIN_ONLY, False):
            routes += [(method, rule) for method in sorted(rule.methods or ()) if method not in ("HEAD", "OPTIONS")]
    return routes


def url(rule: Rule, parts: dict[str, str] = PARTS) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: parts[match.group(1)], rule.rule)


def ask(person: ApiClient, method: str, rule: Rule, parts: dict[str, str] = PARTS):
    return getattr(person, method.lower())(url(rule, parts), **BODIES.get((method, rule.rule), {}))


def test_every_route_under_an_admin_address_is_guarded(app):
    guarded = {rule.rule for _, rule in admin_routes(app)}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(ADMIN_PREFIXES):
            assert rule.rule in guarded, f"{rule.rule} is under an admin address but anyone may call it"
    # The ones the issue names, at least:
    assert {"/reports", "/reports/<name>.csv", "/metrics", "/moderation", "/api/moderation", "/plans"} <= guarded
    assert {"/plans/accounts", "/api/plans", "/api/plans/<name>", "/api/plans/accounts/<user_id>"} <= guarded
    assert len(admin_routes(app)) >= 15


def test_nobody_but_an_admin_gets_an_admin_route(app):
    anonymous = ApiClient(app.test_client())
    member = signed_in(app, "sonya@example.com")
    for method, rule in admin_routes(app):
        for who, person in (("anonymous", anonymous), ("an account", member)):
            response = ask(person, method, rule)
            assert response.status_code == 403, (who, method, rule.rule, response.status_code)
            if rule.rule.startswith("/api/"):
                assert response.get_json()["error"]["code"] == "admins_only"


def test_an_admin_gets_every_admin_route(app, admin, finished_render, adapters):
    sonya = signed_in(app, "sonya@example.com")

    def published_clip() -> str:
        adapters.records.set_publishing_blocked("local:sonya@example.com", False)  # a block route may have run
        render = finished_render(sonya)
        assert sonya.post(f"/api/renders/{render.id}/publish", json={}).status_code == 200
        return render.id

    for method, rule in admin_routes(app):
        # Each route gets a clip of its own: a delete must find one there.
        parts = PARTS | {"render_id": published_clip(), "user_id": "local:sonya@example.com"}
        response = ask(admin, method, rule, parts)
        assert response.status_code in (200, 204, 303), (method, rule.rule, response.status_code)


def test_the_admin_s_links_are_shown_to_admins_only(app, admin):
    def links(person) -> set[str]:
        page = person.get("/gallery").get_data(as_text=True)
        return {path for path in ("/reports", "/moderation", "/plans") if f'href="{path}"' in page}

    assert links(admin) == {"/reports", "/moderation", "/plans"}
    assert links(signed_in(app, "sonya@example.com")) == set()
    assert links(ApiClient(app.test_client())) == set()


def test_an_admin_page_asked_for_anonymously_says_to_sign_in(app):
    page = app.test_client().get("/moderation")
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "Sign in with an admin account" in text and 'href="/signin?next=' in text


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        ("Bearer scrape-me-0123456789", 200),
        ("Bearer scrape-me-012345678", 403),  # one character short
        ("Bearer scrape-me-0123456789x", 403),  # one character more
        ("bearer scrape-me-0123456789", 403),
        ("scrape-me-0123456789", 403),
        ("", 403),
    ],
)
def test_a_scraper_reads_the_metrics_with_the_token_only(adapters, sent, status):
    settings = adapters.settings.model_copy(update={"metrics_token": SecretStr("scrape-me-0123456789")})
    app = create_app({"TESTING": True, "START_WORKER": False}, dataclasses.replace(adapters, settings=settings))
    response = app.test_client().get("/metrics", headers={"Authorization": sent} if sent else {})
    assert response.status_code == status
    if status == 200:
        assert "animbooks_render_queue_depth" in response.get_data(as_text=True)
    assert app.test_client().get("/reports", headers={"Authorization": sent}).status_code == 403  # metrics only


def test_without_a_token_a_bearer_header_opens_nothing(client):
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 403


def test_the_admin_list_is_read_case_blind_and_an_admin_is_nothing_more_without_it(adapters):
    app = create_app({"TESTING": True, "START_WORKER": False}, adapters)
    assert signed_in(app, ADMIN_EMAIL.upper()).get("/api/session").get_json()["admin"] is True
    nobody = dataclasses.replace(adapters, settings=adapters.settings.model_copy(update={"admin_emails": []}))
    plain = create_app({"TESTING": True, "START_WORKER": False}, nobody)
    assert signed_in(plain, ADMIN_EMAIL).get("/reports").status_code == 403
