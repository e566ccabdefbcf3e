"""No surprise work, no lost work, through the API: Idempotency-Key on scene and render
creation, the storyboard's version (ETag, If-Match), the scene's length limit, and the
renders left today."""

import contextlib
import sqlite3
import threading
import uuid
from datetime import UTC, timedelta

import pytest

from infra.domain.ids import now
from tests.conftest import ApiClient, user_of

SCENE = {"text": "Raskolnikov crosses the Neva at dusk.", "book": "Crime and Punishment"}


def scenes_of(adapters, user: str) -> int:
    """How many scenes the person has, read straight from the SQLite file."""
    with contextlib.closing(sqlite3.connect(adapters.settings.database_path)) as connection:
        return connection.execute("SELECT COUNT(*) FROM scenes WHERE user_id = ?", (user,)).fetchone()[0]


def ready_scene(api) -> dict:
    scene = api.post("/api/scenes", json=SCENE).get_json()
    return api.post(f"/api/scenes/{scene['id']}/finish").get_json()


def test_a_repeated_key_gets_the_first_answer_and_makes_one_scene(api, adapters):
    key = str(uuid.uuid4())
    first = api.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": key})
    again = api.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert scenes_of(adapters, user_of(api)) == 1
    other = api.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert scenes_of(adapters, user_of(api)) == 2
    quoted = api.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": f'"{key}"'})  # the draft's sf-string
    assert quoted.get_json()["id"] == first.get_json()["id"]


def test_the_same_key_with_another_body_is_a_422_that_says_so(api, adapters):
    key = str(uuid.uuid4())
    assert api.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": key}).status_code == 201
    reused = api.post("/api/scenes", json=SCENE | {"book": "Anna Karenina"}, headers={"Idempotency-Key": key})
    assert reused.status_code == 422
    error = reused.get_json()["error"]
    assert error["code"] == "idempotency_key_reused" and "different request" in error["message"]
    assert scenes_of(adapters, user_of(api)) == 1


def test_the_same_key_from_someone_else_is_their_own_request(app, api, adapters):
    key = str(uuid.uuid4())
    other = ApiClient(app.test_client())
    mine = api.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": key}).get_json()
    theirs = other.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": key}).get_json()
    assert mine["id"] != theirs["id"]


def test_a_refused_request_does_not_use_up_its_key(api, adapters):
    key = str(uuid.uuid4())
    refused = api.post("/api/scenes", json={"text": ""}, headers={"Idempotency-Key": key})
    assert refused.status_code == 422
    assert api.post("/api/scenes", json={"text": ""}, headers={"Idempotency-Key": key}).status_code == 422
    assert scenes_of(adapters, user_of(api)) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ"])
def test_a_bad_key_is_a_400(api, key):
    response = api.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": key})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_idempotency_key"


def test_a_key_of_255_characters_is_taken(api):
    assert api.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": "k" * 255}).status_code == 201


def test_duplicate_requests_at_once_make_one_scene(app, api, adapters):
    """A double-click's two requests (eight here) arrive together, from threads: one scene, one answer."""
    cookie = api.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    key, count = str(uuid.uuid4()), 8
    start = threading.Barrier(count)
    answers: list = [None] * count

    def send(index: int) -> None:
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value)
        start.wait()
        response = client.post("/api/scenes", json=SCENE, headers={"Idempotency-Key": key, "X-CSRFToken": api.token})
        answers[index] = (response.status_code, response.get_json()["id"])

    threads = [threading.Thread(target=send, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({scene_id for _, scene_id in answers}) == 1
    assert {status for status, _ in answers} == {201}
    assert scenes_of(adapters, user_of(api)) == 1


def test_a_repeated_render_request_starts_one_render_and_takes_one_from_the_quota(api, adapters):
    scene = ready_scene(api)
    key = str(uuid.uuid4())
    first = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft"}, headers={"Idempotency-Key": key})
    again = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft"}, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json()["render_id"] == first.get_json()["render_id"]
    assert [render["id"] for render in api.get("/api/renders").get_json()["items"]] == [first.get_json()["render_id"]]
    other = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "fast"}, headers={"Idempotency-Key": key})
    assert other.status_code == 422


def test_repeats_of_a_request_count_against_the_rate_limit(app, api):
    """Each repeat may wait for the first answer on one of the site's threads: uncounted, a
    script could hold them all. Past the limit a repeat is a 429."""
    app.config["RENDER_RATE_LIMIT"] = "2 per minute"
    scene = ready_scene(api)
    path, key = f"/api/scenes/{scene['id']}/renders", {"Idempotency-Key": str(uuid.uuid4())}
    answers = [api.post(path, json={"preset": "draft"}, headers=key) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [202, 202, 429]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert [render["id"] for render in api.get("/api/renders").get_json()["items"]] == [
        answers[0].get_json()["render_id"]
    ]


def test_render_again_with_a_new_seed(api, adapters):
    scene = ready_scene(api)
    started = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft", "seed": 4_294_967_295})
    assert started.status_code == 202
    render = adapters.records.get_render(started.get_json()["render_id"])
    assert (render.spec.seed, render.spec.storyboard.seed) == (4_294_967_295, 4_294_967_295)
    assert adapters.records.get_scene(scene["id"]).storyboard.seed == scene["storyboard"]["seed"]  # the scene's stays
    past = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft", "seed": 4_294_967_296})
    assert past.status_code == 422


# --- the storyboard's version ---


def test_get_gives_the_version_as_etag_and_a_save_at_it_moves_it_on(api):
    scene = ready_scene(api)
    got = api.get(f"/api/scenes/{scene['id']}")
    etag = got.headers["ETag"]
    version = got.get_json()["version"]
    assert etag == f'"{version}"'
    storyboard = scene["storyboard"] | {"title": "The bridge"}
    saved = api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard, headers={"If-Match": etag})
    assert saved.status_code == 200
    assert saved.get_json()["version"] == version + 1 and saved.headers["ETag"] == f'"{version + 1}"'
    assert api.get(f"/api/scenes/{scene['id']}").headers["ETag"] == f'"{version + 1}"'


def test_a_stale_save_is_a_409_and_changes_nothing(api):
    scene = ready_scene(api)
    etag = api.get(f"/api/scenes/{scene['id']}").headers["ETag"]
    first_tab = scene["storyboard"] | {"title": "First tab"}
    second_tab = scene["storyboard"] | {"title": "Second tab"}
    assert (
        api.put(f"/api/scenes/{scene['id']}/storyboard", json=first_tab, headers={"If-Match": etag}).status_code == 200
    )
    stale = api.put(f"/api/scenes/{scene['id']}/storyboard", json=second_tab, headers={"If-Match": etag})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale_storyboard"
    assert stale.headers["ETag"] == f'"{int(etag.strip(chr(34))) + 1}"'  # the version to save over, if they choose
    assert api.get(f"/api/scenes/{scene['id']}").get_json()["storyboard"]["title"] == "First tab"
    over = api.put(
        f"/api/scenes/{scene['id']}/storyboard", json=second_tab, headers={"If-Match": stale.headers["ETag"]}
    )
    assert over.status_code == 200
    assert api.get(f"/api/scenes/{scene['id']}").get_json()["storyboard"]["title"] == "Second tab"


def test_a_save_without_if_match_still_works_last_one_wins(api):
    scene = ready_scene(api)
    for title in ("One", "Two"):
        assert (
            api.put(f"/api/scenes/{scene['id']}/storyboard", json=scene["storyboard"] | {"title": title}).status_code
            == 200
        )
    assert api.get(f"/api/scenes/{scene['id']}").get_json()["storyboard"]["title"] == "Two"
    assert (
        api.put(
            f"/api/scenes/{scene['id']}/storyboard", json=scene["storyboard"], headers={"If-Match": "*"}
        ).status_code
        == 200
    )


def test_an_if_match_of_18_digits_is_a_version_this_scene_has_not_reached(api):
    scene = ready_scene(api)
    answer = api.put(
        f"/api/scenes/{scene['id']}/storyboard", json=scene["storyboard"], headers={"If-Match": '"' + "9" * 18 + '"'}
    )
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "stale_storyboard"


@pytest.mark.parametrize(
    "if_match",
    ['"abc"', '""', '"²"', 'W/"1"', '"' + "9" * 19 + '"', '"' + "9" * 4301 + '"'],  # past 18 digits: no version
)
def test_an_if_match_that_names_no_version_is_a_400(api, if_match):
    scene = ready_scene(api)
    bad = api.put(f"/api/scenes/{scene['id']}/storyboard", json=scene["storyboard"], headers={"If-Match": if_match})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_if_match"


# --- the scene's length ---


def test_a_scene_of_4000_characters_is_taken_and_4001_refused_with_the_limit(api, adapters):
    at_limit = api.post("/api/scenes", json={"text": "a" * 3999 + "ё"})  # characters, not bytes
    assert at_limit.status_code == 201
    assert len(adapters.records.get_scene(at_limit.get_json()["id"]).text) == 4000  # whole, nothing cut
    over = api.post("/api/scenes", json={"text": "a" * 4001})
    assert over.status_code == 422
    assert "4000" in over.get_json()["error"]["message"]
    assert over.get_json()["error"]["fields"][0]["field"] == "text"


# --- the renders left today ---


def test_the_pages_say_how_many_renders_are_left_today(app, api, adapters):
    quota = adapters.settings.anonymous_daily_render_quota
    scene = ready_scene(api)
    page = api.get(f"/scenes/{scene['id']}").get_data(as_text=True)
    assert f"You can start {quota} more renders today (of {quota})." in page
    api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft"})
    left = quota - 1
    expected = f"You can start {left} more {'render' if left == 1 else 'renders'} today (of {quota})."
    assert expected in api.get(f"/scenes/{scene['id']}").get_data(as_text=True)
    assert expected in api.get("/renders").get_data(as_text=True)


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        (18, "Можно запустить ещё 2 рендера сегодня (из 20)."),
        (19, "Можно запустить ещё 1 рендер сегодня (из 20)."),
        (20, "Можно запустить ещё 0 рендеров сегодня (из 20)."),
    ],
)
def test_the_renders_left_in_russian_take_the_plural_the_number_needs(api, adapters, taken, expected):
    moment = now()
    key = f"renders:{moment.astimezone(UTC).date().isoformat()}:user:{user_of(api)}"
    adapters.counters.add(key, taken, moment + timedelta(days=1))
    assert adapters.settings.anonymous_daily_render_quota == 20
    page = api.get("/renders", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert expected in page
