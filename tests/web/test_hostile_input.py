"""Hostile and broken input gets a clear 4xx, never a 5xx, and nothing is stored half-way."""

import pytest

from infra.sqlite import SqliteDatabase
from tests.conftest import ADMIN_EMAIL, signed_in

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
    response = client.delete("/api/session")
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


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


BOMB = b"[" * 30_000  # parsed recursively, it would exhaust the interpreter's stack


def test_a_nested_json_bomb_is_refused_by_every_route_that_reads_json(app, finished_render):
    from frontend_service.openapi import OPERATIONS

    api = signed_in(app, ADMIN_EMAIL)  # publishing takes an account; the plans, an admin
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    render = finished_render(api)
    assert api.post(f"/api/renders/{render.id}/publish", json={}).status_code == 200
    book = api.post("/api/books", json={"title": "A lighthouse"}).get_json()
    reading = [(method, path) for method, path, _, body, _ in OPERATIONS if body is not None and method != "get"]
    # scenes, answers, storyboard, renders, publish, vote, report, appeal, prompt-tokens, a plan, a plan's account,
    # a new book, a book's changes, a book's scene
    assert len(reading) == 14
    for method, path in reading:
        ids = {"scene_id": scene["id"], "render_id": render.id, "book_id": book["id"]}
        url = path.format(**ids, name="studio", user_id="local:ann@example.com")
        for body in (BOMB, b'{"text": ' + BOMB):
            response = getattr(api, method)(url, data=body, content_type="application/json")
            assert response.status_code == 400, (method, path, response.status_code)
            assert response.get_json()["error"]["code"] == "invalid_json", (method, path)
    assert api.get(f"/api/scenes/{scene['id']}").get_json()["state"] == "asking"  # nothing changed
    assert api.get(f"/api/books/{book['id']}").get_json() == book


def test_a_nested_json_bomb_with_an_idempotency_key_is_refused_like_one_without(api):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    for path in ("/api/scenes", f"/api/scenes/{scene['id']}/renders"):
        response = api.post(path, data=BOMB, content_type="application/json", headers={"Idempotency-Key": "k1"})
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json", path
    assert api.get("/api/renders").get_json()["items"] == []


def test_a_body_that_is_not_json_is_refused_where_the_body_is_optional(api):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    response = api.post(f"/api/scenes/{scene['id']}/renders", data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"
    assert api.get("/api/renders").get_json()["items"] == []
    assert api.post(f"/api/scenes/{scene['id']}/renders").status_code == 202  # no body at all: the defaults


@pytest.mark.parametrize(
    "change, field",
    [
        ({"seed": "12"}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": 12.0}, "seed"),
        ({"shots": [{"start_s": "0", "prompt": "a bridge at dusk"}]}, "shots.0.start_s"),
        ({"shots": [{"start_s": False, "prompt": "a bridge at dusk"}]}, "shots.0.start_s"),
    ],
)
def test_a_number_must_be_a_number(api, storyboard_data, change, field):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    response = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data | change)
    assert response.status_code == 422
    [error] = response.get_json()["error"]["fields"]
    assert error["field"] == field and "number" in error["message"]
    assert api.get(f"/api/scenes/{scene['id']}").get_json()["storyboard"] is None


def test_numbers_written_as_numbers_are_fine(api, storyboard_data):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    storyboard_data["shots"][1]["start_s"] = 5  # an integer where seconds are asked
    storyboard_data["shots"][2]["start_s"] = 10.5
    response = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data | {"seed": 12})
    assert response.status_code == 200
    saved = response.get_json()["storyboard"]
    assert saved["seed"] == 12 and [shot["start_s"] for shot in saved["shots"]] == [0, 5, 10.5]


@pytest.mark.parametrize("value", ["1", True, False, 1.0, 2, -2])
def test_a_vote_is_minus_one_zero_or_one_as_a_number(app, finished_render, value):
    owner, api = signed_in(app, "sonya@example.com"), signed_in(app, "dunya@example.com")
    render = finished_render(owner)
    assert owner.post(f"/api/renders/{render.id}/publish", json={}).status_code == 200
    response = api.put(f"/api/renders/{render.id}/vote", json={"value": value})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["field"] == "value"
    assert api.put(f"/api/renders/{render.id}/vote", json={"value": -1}).get_json()["down"] == 1


VISIBLE = "write something visible: this has only spaces or invisible characters"


@pytest.mark.parametrize(
    "text",
    [
        "\u200b",  # zero-width space
        "\u200b\u200c\u200d\u2060\ufeff",  # zero-width (non-)joiners, word joiner, byte order mark
        " \u200b\n\t\u00a0\u3000\u200b ",  # with spaces of several kinds
        "\u2066\u2069\u202e",  # bidirectional controls
        "\u3164\u115f",  # Hangul fillers: letters that show nothing
    ],
)
def test_a_scene_needs_visible_text(api, settings, text):
    before = stored_rows(settings)
    response = api.post("/api/scenes", json={"text": text})
    assert response.status_code == 422
    [error] = response.get_json()["error"]["fields"]
    assert error == {
        "field": "text",
        "message": "write something visible: this has only spaces or invisible characters",
    }
    assert stored_rows(settings) == before


@pytest.mark.parametrize("text", ["a", "\u200bа\u200b", "Раскольников", "雨"])
def test_one_visible_character_is_enough(api, text):
    assert api.post("/api/scenes", json={"text": text}).status_code == 201


def test_invisible_prompts_and_titles_are_refused(api, storyboard_data):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    storyboard_data["title"] = "\u200b\u200b"
    storyboard_data["shots"][1]["prompt"] = "\ufeff "
    response = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data)
    assert response.status_code == 422
    assert {error["field"] for error in response.get_json()["error"]["fields"]} == {"title", "shots.1.prompt"}


def label_sets(client) -> set[tuple]:
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics").get_data(as_text=True)
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if family.name == "animbooks_request_seconds"
    }


def test_unknown_methods_and_addresses_do_not_grow_the_metrics(admin):
    import random

    client = admin.client  # the metrics are an admin's
    import string

    for method in ("GET", "BREW"):  # one request of each kind the loop below sends
        client.open("/api/session", method=method)
        client.open("/no/such/page", method=method)
    client.get("/metrics")
    before = label_sets(client)
    size = len(client.get("/metrics").data)
    rng = random.Random(12)
    for index in range(300):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        path = "/api/session" if index % 2 else f"/no/such/page/{index}"
        assert client.open(path, method=method).status_code in (404, 405)
    assert label_sets(client) == before
    methods = {dict(labels)["method"] for _, labels in before}
    assert methods == {"GET", "POST", "other"}  # POST: the admin's sign-in
    assert len(client.get("/metrics").data) < size + 200  # the counts grow by a few digits, not by label sets
