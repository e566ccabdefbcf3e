"""Accounts and moderation in cloud mode, on the Firestore emulator: sign-in with Google
(a local OpenID provider), the anonymous work moving to the account, reports holding a
clip, an admin's decisions, an appeal and a block, all through the site."""

from __future__ import annotations

import pytest

from frontend_service import create_app
from infra.bootstrap import bootstrap
from infra.domain.render import Render
from infra.domain.storyboard import Storyboard, resolve_spec
from tests.cloud.conftest import with_google_signin
from tests.conftest import ADMIN_EMAIL, ApiClient, user_of
from tests.web.oidc_provider import Provider

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def test_accounts_and_moderation_on_firestore(cloud, httpserver, storyboard_data):
    provider = Provider(httpserver, redirect_uri="http://localhost/signin/google/callback").install()
    adapters = bootstrap(with_google_signin(cloud, provider))
    app = create_app({"TESTING": True}, adapters)

    def with_google(subject: str, email: str, client=None) -> ApiClient:
        provider.user = {"sub": subject, "email": email, "email_verified": True, "name": email.split("@")[0]}
        client = client or app.test_client()
        start = client.get("/signin/google")
        assert start.status_code == 302
        assert client.get(provider.follow(start.headers["Location"])).status_code == 302
        return ApiClient(client)

    # Anonymous: a scene and a finished render, then signing in takes them along.
    browser = app.test_client()
    anonymous = ApiClient(browser)
    anonymous_id = user_of(anonymous)
    scene = anonymous.post("/api/scenes", json={"text": "A lighthouse in a storm at night."}).get_json()
    render = Render(
        user_id=anonymous_id, scene_id=scene["id"], spec=resolve_spec(Storyboard.model_validate(storyboard_data))
    )
    adapters.records.create_render(render)
    adapters.records.mark_running(render.id, 1, "r")
    adapters.records.mark_succeeded(render.id, "r", {}, {"render_s": 3.0})
    assert anonymous.post(f"/api/renders/{render.id}/publish", json={}).status_code == 403
    owner = with_google("1", "sonya@example.com", browser)
    assert user_of(owner) == "google:1"
    assert [r["id"] for r in owner.get("/api/renders").get_json()["items"]] == [render.id]
    assert owner.get(f"/api/scenes/{scene['id']}").status_code == 200
    assert owner.post(f"/api/renders/{render.id}/publish", json={}).get_json()["listed"] is True

    # Three accounts report it: held; the admin clears it, hides it; the owner appeals once.
    for number in (2, 3, 4):
        with_google(str(number), f"reader{number}@example.com").post(
            f"/api/renders/{render.id}/report", json={"reason": "spam"}
        )
    admin = with_google("99", ADMIN_EMAIL)
    [item] = admin.get("/api/moderation").get_json()["items"]
    assert (item["held"], item["reports"], [r["reason"] for r in item["report_list"]]) == (True, 3, ["spam"] * 3)
    assert admin.post(f"/api/moderation/{render.id}/clear").get_json()["listed"] is True
    assert admin.post(f"/api/moderation/{render.id}/hide").get_json()["hidden"] is True
    assert owner.post(f"/api/renders/{render.id}/appeal", json={"note": "it is mine"}).status_code == 200
    assert owner.post(f"/api/renders/{render.id}/appeal", json={"note": "again"}).status_code == 409
    assert admin.get("/api/moderation").get_json()["items"][0]["appeal"] == "it is mine"

    # A block holds across signing in again; lifting it lets her publish.
    assert admin.put("/api/moderation/accounts/google:1/publishing-block").get_json()["publishing_blocked"]
    again = with_google("1", "sonya@example.com")
    assert again.post(f"/api/renders/{render.id}/publish", json={}).status_code == 403
    assert admin.get("/api/moderation").get_json()["blocked"] == ["google:1"]
    admin.delete("/api/moderation/accounts/google:1/publishing-block")
    assert again.post(f"/api/renders/{render.id}/publish", json={}).status_code == 200
