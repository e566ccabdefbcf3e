"""Every route that changes something, found from the app's URL map (a route added later
is covered without anyone remembering to): without the session's CSRF token it is
refused with 400 and changes nothing; under /api, a body that is not JSON is refused
with 415 even with the token."""

from __future__ import annotations

import re

import pytest

from frontend_service import create_app
from infra.bootstrap import bootstrap
from infra.settings import Settings
from tests.conftest import ApiClient

CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


def write_routes() -> list[tuple[str, str]]:
    import tempfile
    from pathlib import Path

    app = create_app({"TESTING": True, "START_WORKER": False}, bootstrap(Settings(data_dir=Path(tempfile.mkdtemp()))))
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) & CHANGES
        if rule.endpoint != "static"
    )


ROUTES = write_routes()


def filled(rule: str, value: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", value, rule)


@pytest.fixture
def person_with_a_scene(client, adapters):
    """A person, their session, and a scene and a render to aim the changes at."""
    api = ApiClient(client)
    scene = api.post("/api/scenes", json={"text": "A lighthouse in a storm."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    render = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft"}).get_json()
    return api, scene["id"], render["render_id"]


def test_the_routes_were_found():
    assert ("POST", "/api/scenes") in ROUTES and ("DELETE", "/api/renders/<render_id>") in ROUTES
    assert len(ROUTES) >= 10


@pytest.mark.parametrize(("method", "rule"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(person_with_a_scene, adapters, method, rule):
    api, scene_id, render_id = person_with_a_scene
    path = filled(rule, render_id if "render" in rule else scene_id)
    before = (adapters.records.get_scene(scene_id), adapters.records.get_render(render_id), adapters.queue.depth())
    response = getattr(api.client, method.lower())(path, json={"text": "x", "value": 1})  # no X-CSRFToken
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    if rule.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "csrf"
    after = (adapters.records.get_scene(scene_id), adapters.records.get_render(render_id), adapters.queue.depth())
    assert after == before


API_ROUTES = [(method, rule) for method, rule in ROUTES if rule.startswith("/api/")]


@pytest.mark.parametrize(("method", "rule"), API_ROUTES, ids=[f"{m} {r}" for m, r in API_ROUTES])
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"])
def test_an_api_change_with_a_body_that_is_not_json_is_refused(person_with_a_scene, method, rule, content_type):
    api, scene_id, render_id = person_with_a_scene
    path = filled(rule, render_id if "render" in rule else scene_id)
    response = getattr(api, method.lower())(path, data="text=x&value=1", content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["error"]["message"] == "Send JSON with Content-Type: application/json."
