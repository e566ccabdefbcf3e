"""Hostile and broken input gets a clear 4xx, never a 5xx, and nothing is stored half-way."""

import pytest

from infra.records_sqlite import SqliteDatabase

SCRIPT = "<script>alert('x')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


def stored_rows(settings) -> tuple[int, ...]:
    connection = SqliteDatabase(settings.database_path).connect()  # creates the schema if need be
    return tuple(
        connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("scenes", "renders", "dialogue_turns")
    )


@pytest.mark.parametrize(
    "body, status",
    [
        ({}, 422),
        ({"text": ""}, 422),
        ({"text": "   "}, 422),
        ({"text": 123}, 422),
        ({"text": ["a", "list"]}, 422),
        ({"text": None}, 422),
        ({"text": "x" * 4001}, 422),
        ({"text": "a scene\x00with a null byte"}, 422),
        ({"text": "a scene\x1b[31m with terminal escapes"}, 422),
        ({"text": "fine", "book": "b" * 201}, 422),
        ({"text": "fine", "colour": "red"}, 201),  # unknown fields of a request are ignored
        ([1, 2, 3], 400),
        ("just a string", 400),
    ],
)
def test_new_scene_input(api, settings, body, status):
    before = stored_rows(settings)
    response = api.post("/api/scenes", json=body)
    assert response.status_code == status, response.get_json()
    if status >= 400:
        error = response.get_json()["error"]
        assert error["message"] and error["code"]
        assert stored_rows(settings) == before


def test_a_body_of_100_kb_is_refused_whole(api, settings):
    before = stored_rows(settings)
    response = api.post("/api/scenes", json={"text": "x" * 100_000})
    assert response.status_code == 413
    assert "at most 4,000 characters" in response.get_json()["error"]["message"]
    assert stored_rows(settings) == before


def test_malformed_json(api, settings):
    response = api.post("/api/scenes", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_no_csrf_token_no_change(client, settings):
    client.get("/api/session")
    before = stored_rows(settings)
    response = client.post("/api/scenes", json={"text": "A lighthouse."})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf"
    assert stored_rows(settings) == before


@pytest.mark.parametrize("answers", [["a list"], {"action": 5}, {"nope": "unknown question"}, "text"])
def test_bad_answers(api, settings, answers):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    before = stored_rows(settings)
    response = api.post(f"/api/scenes/{scene['id']}/answers", json={"answers": answers})
    assert 400 <= response.status_code < 500
    assert stored_rows(settings) == before


@pytest.mark.parametrize(
    "storyboard",
    [{"shots": "abc"}, {"title": "t", "shots": [{"start_s": "soon", "prompt": "x"}]}, {"title": {"a": 1}, "shots": []}],
)
def test_bad_storyboards(api, storyboard):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    response = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard)
    assert response.status_code == 422 and response.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/scenes/nope",
        "/api/renders/nope",
        "/scenes/nope",
        "/renders/nope",
        "/renders/nope/files/video",
        "/renders/nope/download",
    ],
)
def test_unknown_ids(client, path):
    response = client.get(path)
    assert response.status_code == 404


def test_wrong_method(client):
    assert client.delete("/api/session").status_code == 405


def test_markup_is_shown_as_text_everywhere(api, client, storyboard_data):
    scene = api.post("/api/scenes", json={"text": f"A scene {SCRIPT}", "book": ATTRIBUTE, "author": SCRIPT}).get_json()
    storyboard_data["title"] = f"{SCRIPT}{ATTRIBUTE}"
    storyboard_data["shots"][0]["prompt"] = SCRIPT
    assert api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data).status_code == 200
    page = client.get(f"/scenes/{scene['id']}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "\\u003cscript\\u003e" in page  # the storyboard's JSON for the page's script is escaped too
    render_id = api.post(f"/api/scenes/{scene['id']}/renders", json={}).get_json()["render_id"]
    for path in (f"/renders/{render_id}", "/renders"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;" in html


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert '<script src="/static/app.js"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(adapters, secure):
    from frontend_service import create_app

    adapters.settings.secure_cookies = secure
    app = create_app({"TESTING": True, "START_WORKER": False}, adapters)
    cookie = app.test_client().get("/api/session").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure
