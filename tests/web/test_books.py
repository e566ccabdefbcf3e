"""A whole book through the JSON API: its scenes in its look, their order, the reel and its
refusals (clear 4xx, nothing stored), and the reel made by the job, played and published."""

from typing import Any

import pytest

from animate_job.run import run_render
from infra.domain.render import Render
from infra.domain.storyboard import RenderSpec
from infra.domain.subtitles import Cue, webvtt
from tests.conftest import ApiClient, signed_in, user_of
from tests.render.test_reel import BLUE, RED, clip_spec, solid_clip

BOOK: dict[str, Any] = {
    "title": "Crime and Punishment",
    "author": "Fyodor Dostoevsky",
    "aspect": "16:9",
    "bible": {
        "characters": [{"name": "Raskolnikov", "look": "gaunt young man in a worn coat"}],
        "places": [{"name": "Neva", "look": "wide grey river"}],
        "period": "St Petersburg, 1860s",
        "style": "oil painting",
    },
    "seed_policy": "per_scene",
    "seed": 1866,
}
SCENE = "Raskolnikov walked slowly onto the bridge over the Neva at dusk, in the rain, feeling gloomy."


def new_book(person: ApiClient, **changes) -> dict:
    response = person.post("/api/books", json=BOOK | changes)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_scene(person: ApiClient, book_id: str, chapter: str, text: str = SCENE) -> dict:
    response = person.post(f"/api/books/{book_id}/scenes", json={"text": text, "chapter": chapter})
    assert response.status_code == 201, response.get_json()
    scene = response.get_json()
    if scene["state"] != "ready":
        scene = person.post(f"/api/scenes/{scene['id']}/finish").get_json()
    return scene


def finished_clip(
    adapters, person: ApiClient, scene_id: str, tmp_path, colour=RED, aspect="16:9", words=None, video=None
):
    """A succeeded render of the scene with a real (small, solid-colour) clip, made here
    unless `video` is one made before."""
    spec: RenderSpec = clip_spec(aspect)
    render = Render(user_id=user_of(person), scene_id=scene_id, spec=spec)
    adapters.records.create_render(render)
    adapters.records.mark_running(render.id, 1, "r")
    video = video or solid_clip(tmp_path / f"{render.id}.mp4", colour, spec)
    artifacts = {"video": f"renders/{render.id}/r/clip.mp4"}
    adapters.storage.put_file(artifacts["video"], video, "video/mp4")
    if words:
        (tmp_path / f"{render.id}.vtt").write_text(webvtt(words), encoding="utf-8")
        artifacts["subtitles"] = f"renders/{render.id}/r/clip.vtt"
        adapters.storage.put_file(artifacts["subtitles"], tmp_path / f"{render.id}.vtt", "text/vtt")
    adapters.records.mark_succeeded(render.id, "r", artifacts, {})
    return render


def test_a_book_is_made_listed_and_read_back(api):
    book = new_book(api)
    assert (book["title"], book["aspect"], book["seed_policy"], book["chapters"]) == (
        "Crime and Punishment",
        "16:9",
        "per_scene",
        [],
    )
    assert api.get(f"/api/books/{book['id']}").get_json() == book
    assert [item["id"] for item in api.get("/api/books").get_json()["items"]] == [book["id"]]


def test_a_scene_of_the_book_starts_from_its_bible_and_is_drafted_in_its_look(api, adapters):
    book = new_book(api)
    first = add_scene(api, book["id"], "Part One")
    second = add_scene(api, book["id"], "Part Two")
    for scene, seed in ((first, 1866), (second, 1867)):  # per scene: the book's seed, then the next
        storyboard = scene["storyboard"]
        assert (storyboard["style"], storyboard["aspect"], storyboard["seed"]) == (
            "oil painting, St Petersburg, 1860s",
            "16:9",
            seed,
        )
        assert (storyboard["book"], storyboard["author"]) == ("Crime and Punishment", "Fyodor Dostoevsky")
    stored = adapters.records.get_scene(first["id"])
    assert stored.book_id == book["id"]
    assert stored.bible["book"]["characters"] == [{"name": "Raskolnikov", "look": "gaunt young man in a worn coat"}]
    chapters = api.get(f"/api/books/{book['id']}").get_json()["chapters"]
    assert [(c["scene_id"], c["chapter"], c["state"]) for c in chapters] == [
        (first["id"], "Part One", "ready"),
        (second["id"], "Part Two", "ready"),
    ]


def test_the_person_orders_the_scenes_and_labels_the_chapters(api):
    book = new_book(api)
    one, two = add_scene(api, book["id"], "I"), add_scene(api, book["id"], "II")
    order = [{"scene_id": two["id"], "chapter": "Epilogue"}, {"scene_id": one["id"], "chapter": "Part One"}]
    changed = api.patch(f"/api/books/{book['id']}", json={"chapters": order, "title": "Crime & Punishment"})
    assert changed.status_code == 200
    body = changed.get_json()
    assert [(c["scene_id"], c["chapter"]) for c in body["chapters"]] == [
        (two["id"], "Epilogue"),
        (one["id"], "Part One"),
    ]
    assert (body["title"], body["author"], body["version"]) == ("Crime & Punishment", "Fyodor Dostoevsky", 3)


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"chapters": [{"scene_id": "not-in-this-book"}]}, 404, "not_found"),
        ({"aspect": "4:3"}, 422, "invalid"),
        ({"title": ""}, 422, "invalid"),
        ({"seed": -1}, 422, "invalid"),
        ({"colour": "red"}, 422, "invalid"),
        ({"chapters": [{"scene_id": "x", "chapter": "a" * 121}]}, 422, "invalid"),
    ],
)
def test_a_bad_change_is_a_clear_4xx_and_changes_nothing(api, change, status, code):
    book = new_book(api)
    response = api.patch(f"/api/books/{book['id']}", json=change)
    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    assert api.get(f"/api/books/{book['id']}").get_json() == book


def test_a_scene_left_out_of_the_order_may_come_back_but_no_scene_of_another_book(api):
    book, other = new_book(api), new_book(api, title="The Idiot")
    one, two = add_scene(api, book["id"], "I"), add_scene(api, book["id"], "II")
    elsewhere = add_scene(api, other["id"], "I")
    left_out = api.patch(f"/api/books/{book['id']}", json={"chapters": [{"scene_id": two["id"]}]})
    assert [c["scene_id"] for c in left_out.get_json()["chapters"]] == [two["id"]]
    back = api.patch(f"/api/books/{book['id']}", json={"chapters": [{"scene_id": one["id"]}, {"scene_id": two["id"]}]})
    assert [c["scene_id"] for c in back.get_json()["chapters"]] == [one["id"], two["id"]]
    plain = api.post("/api/scenes", json={"text": SCENE}).get_json()
    for stranger in (elsewhere["id"], plain["id"]):
        refused = api.patch(f"/api/books/{book['id']}", json={"chapters": [{"scene_id": stranger}]})
        assert refused.status_code == 404
        assert refused.get_json()["error"]["message"] == f"This book has no scene {stranger}."


def test_a_scene_twice_in_the_order_is_refused(api):
    book = new_book(api)
    scene = add_scene(api, book["id"], "I")
    twice = [{"scene_id": scene["id"]}, {"scene_id": scene["id"]}]
    response = api.patch(f"/api/books/{book['id']}", json={"chapters": twice})
    assert response.status_code == 422
    assert "only once" in response.get_json()["error"]["message"]


def test_someone_elses_book_is_not_found(app, api):
    book = new_book(api)
    stranger = ApiClient(app.test_client())
    for response in (
        stranger.get(f"/api/books/{book['id']}"),
        stranger.patch(f"/api/books/{book['id']}", json={"title": "Mine"}),
        stranger.post(f"/api/books/{book['id']}/scenes", json={"text": SCENE}),
        stranger.post(f"/api/books/{book['id']}/reel"),
    ):
        assert (response.status_code, response.get_json()["error"]["message"]) == (404, "No such book.")


def test_a_book_title_at_the_limit_and_one_past(api):
    assert api.post("/api/books", json={"title": "t" * 120}).status_code == 201
    too_long = api.post("/api/books", json={"title": "t" * 121})
    assert too_long.status_code == 422 and too_long.get_json()["error"]["fields"][0]["field"] == "title"


def test_a_book_s_style_and_period_leave_each_shot_room_at_40_tokens_and_not_41(api, adapters):
    """Every shot's prompt carries the style and the period, and the text encoder reads 77
    tokens. Estimated by hand: 2 for the start and end, 1 for each short word, 1 for the comma."""
    at_limit = {"style": " ".join(["oil"] * 36), "period": "city"}  # 2 + 36 + 1 + 1 = 40
    book = new_book(api, bible=BOOK["bible"] | at_limit)
    scene = add_scene(api, book["id"], "Part One")
    storyboard = api.post(f"/api/scenes/{scene['id']}/finish").get_json()["storyboard"]
    assert api.post(f"/api/scenes/{scene['id']}/renders", json={}).status_code == 202  # its shots fit
    assert all(len(shot["prompt"].split()) > 3 for shot in storyboard["shots"])  # none cut to the bone
    past = {"style": " ".join(["oil"] * 37), "period": "city"}  # 41
    refused = api.post("/api/books", json=BOOK | {"bible": BOOK["bible"] | past})
    assert refused.status_code == 422
    [field] = refused.get_json()["error"]["fields"]
    assert field == {
        "field": "bible.style",
        "message": "the style and the period together take 41 tokens (estimated); every shot's prompt carries them "
        "and the text encoder reads at most 77, so keep them to 40 to leave room for what each shot shows",
    }
    changed = api.patch(f"/api/books/{book['id']}", json={"bible": BOOK["bible"] | past})
    assert changed.status_code == 422 and changed.get_json()["error"]["fields"][0]["field"] == "bible.style"
    period_alone = {"characters": [], "places": [], "period": " ".join(["a"] * 39)}  # no style sent: 2 + 39 = 41
    no_style = api.post("/api/books", json={"title": "The Idiot", "bible": period_alone})
    assert no_style.status_code == 422 and no_style.get_json()["error"]["fields"][0]["field"] == "bible.style"
    assert api.get(f"/api/books/{book['id']}").get_json()["bible"]["style"] == at_limit["style"]  # unchanged


def test_a_book_stored_before_the_look_was_limited_still_opens(api, adapters):
    book = new_book(api)
    stored = adapters.records.get_book(book["id"])
    long_look = stored.bible.model_copy(update={"style": " ".join(["a"] * 60)})  # as saved before the check
    adapters.records.save_book(stored.model_copy(update={"bible": long_look}))
    opened = api.get(f"/api/books/{book['id']}")
    assert opened.status_code == 200, opened.get_json()
    assert opened.get_json()["bible"]["style"] == " ".join(["a"] * 60)


def test_a_field_a_book_does_not_have_is_named_as_such(api):
    refused = api.post("/api/books", json={"title": "Crime and Punishment", "colour": "red"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == [
        {"field": "colour", "message": "there is no such field here; remove it"}
    ]


def _renders(adapters, person) -> int:
    return len(adapters.records.list_renders(user_of(person)))


def test_the_reel_of_an_empty_book_is_refused(api, adapters):
    book = new_book(api)
    response = api.post(f"/api/books/{book['id']}/reel")
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == (
        "This book has no scenes yet: write its scenes and render them before its reel."
    )
    assert _renders(adapters, api) == 0


def test_the_reel_waits_for_every_scene_to_have_a_finished_clip(api, adapters, tmp_path):
    book = new_book(api)
    one, two = add_scene(api, book["id"], "Part One"), add_scene(api, book["id"], "Part Two")
    finished_clip(adapters, api, one["id"], tmp_path)
    unfinished = Render(user_id=user_of(api), scene_id=two["id"], spec=clip_spec())
    adapters.records.create_render(unfinished)  # queued, not finished
    response = api.post(f"/api/books/{book['id']}/reel")
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == (
        "Scene 2 (Part Two) has no finished clip yet: render it and wait until it is ready."
    )
    assert _renders(adapters, api) == 2  # the two clips; no reel


def test_clips_of_different_shapes_make_no_reel(api, adapters, tmp_path):
    book = new_book(api)
    one, two = add_scene(api, book["id"], "I"), add_scene(api, book["id"], "II")
    finished_clip(adapters, api, one["id"], tmp_path, aspect="16:9")
    finished_clip(adapters, api, two["id"], tmp_path, aspect="1:1")
    response = api.post(f"/api/books/{book['id']}/reel")
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == (
        "The clips have different frame shapes (16:9, 1:1): render every scene at the book's 16:9 first."
    )
    assert _renders(adapters, api) == 2


def test_no_reel_once_the_days_render_budget_is_spent(api, adapters, tmp_path):
    from datetime import timedelta

    from infra.domain.ids import now
    from infra.spending import spend_key

    book = new_book(api)
    scene = add_scene(api, book["id"], "Part One")
    finished_clip(adapters, api, scene["id"], tmp_path)
    adapters.settings.daily_spend_cap_usd = 1.0
    adapters.counters.add(spend_key(now().date()), 999_999, now() + timedelta(days=2))  # a micro-dollar below
    first = api.post(f"/api/books/{book['id']}/reel")
    assert first.status_code == 202
    adapters.counters.add(spend_key(now().date()), 1, now() + timedelta(days=2))  # at the cap
    again = api.post(f"/api/books/{book['id']}/reel")  # the first is still being made: it is that one
    assert again.status_code == 202 and again.get_json()["render_id"] == first.get_json()["render_id"]
    assert adapters.records.cancel(first.get_json()["render_id"])
    refused = api.post(f"/api/books/{book['id']}/reel")
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (429, "spend_cap")
    assert _renders(adapters, api) == 2  # the clip and the first reel; nothing for the refused one


def test_asking_again_while_the_reel_is_made_is_that_reel(api, adapters, tmp_path):
    """A double-click or a script's retry: one reel job, not two. Once it has finished, a
    new request makes a new reel (the person may have changed the chapters)."""
    book = new_book(api)
    finished_clip(adapters, api, add_scene(api, book["id"], "Part One")["id"], tmp_path)
    answers = [api.post(f"/api/books/{book['id']}/reel") for _ in range(3)]
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.get_json()["render_id"] for answer in answers}) == 1
    assert adapters.queue.depth() == 1 and _renders(adapters, api) == 2  # the clip and one reel
    reel_id = answers[0].get_json()["render_id"]
    assert adapters.records.mark_running(reel_id, 1, "r")
    assert api.post(f"/api/books/{book['id']}/reel").get_json()["render_id"] == reel_id  # running: the same
    assert adapters.records.mark_succeeded(reel_id, "r", {}, {})
    after = api.post(f"/api/books/{book['id']}/reel")
    assert after.status_code == 202 and after.get_json()["render_id"] != reel_id
    other_book = new_book(api, title="The Idiot")  # another book's reel is its own
    finished_clip(adapters, api, add_scene(api, other_book["id"], "I")["id"], tmp_path)
    assert api.post(f"/api/books/{other_book['id']}/reel").get_json()["render_id"] != after.get_json()["render_id"]


def test_the_reel_is_queued_made_by_the_job_played_with_its_words_and_published_as_one(app, adapters, tmp_path):
    person = signed_in(app, "reader@example.com")
    book = new_book(person)
    one, two = add_scene(person, book["id"], "Part One"), add_scene(person, book["id"], "Part Two")
    finished_clip(adapters, person, one["id"], tmp_path, RED, words=[Cue(0.0, 5.0, "Он вышел на мост.")])
    old_take = finished_clip(adapters, person, two["id"], tmp_path, RED)
    newest = finished_clip(adapters, person, two["id"], tmp_path, BLUE, words=[Cue(2.0, 4.0, "Нева")])
    order = [{"scene_id": two["id"], "chapter": "Part Two"}, {"scene_id": one["id"], "chapter": "Part One"}]
    person.patch(f"/api/books/{book['id']}", json={"chapters": order})

    started = person.post(f"/api/books/{book['id']}/reel")
    assert started.status_code == 202
    reel_id = started.get_json()["render_id"]
    reel = adapters.records.get_render(reel_id)
    assert [(p.scene_id, p.chapter) for p in reel.reel.parts] == [(two["id"], "Part Two"), (one["id"], "Part One")]
    assert reel.reel.parts[0].render_id == newest.id != old_take.id  # each scene's latest finished clip
    assert adapters.queue.depth() == 1  # queued for the job like any render
    assert person.get(f"/api/books/{book['id']}").get_json()["reel_state"] == "queued"

    assert run_render(reel_id, adapters) == 0
    status = person.get(f"/api/renders/{reel_id}").get_json()
    assert (status["state"], status["duration_s"], status["title"]) == ("succeeded", 36.0, "Crime and Punishment")
    words = person.get(status["subtitles_url"])
    assert words.status_code == 200
    # Part Two's clip first, from 3 s; Part One's from 3 + 15 + 3 = 21 s
    assert words.get_data(as_text=True) == (
        "WEBVTT\n\n1\n00:00:05.000 --> 00:00:07.000\nНева\n\n2\n00:00:21.000 --> 00:00:26.000\nОн вышел на мост.\n"
    )
    video = person.get(status["video_url"])
    assert (video.status_code, video.mimetype) == (200, "video/mp4")
    video.close()

    published = person.post(f"/api/renders/{reel_id}/publish")
    assert published.status_code == 200
    [item] = person.get("/api/gallery?sort=new").get_json()["items"]
    assert (item["render_id"], item["title"], item["book"], item["author"]) == (
        reel_id,
        "Crime and Punishment",
        "Crime and Punishment",
        "Fyodor Dostoevsky",
    )
    # A reel has no storyboard of its own (its spec is its first clip's): it is not remixed, and
    # neither its gallery page nor its render page offers what it cannot do.
    stranger = signed_in(app, "stranger@example.com")
    remixed = stranger.post(f"/api/renders/{reel_id}/remix")
    assert remixed.status_code == 409
    assert remixed.get_json()["error"]["message"] == (
        "A book's reel joins the clips of its scenes and cannot be remixed: remix one of its scenes."
    )
    assert adapters.gallery.get(reel_id).remixes == 0
    assert 'id="remix"' not in stranger.get(f"/gallery/{reel_id}").get_data(as_text=True)
    assert 'id="retry"' not in person.get(f"/renders/{reel_id}").get_data(as_text=True)
    assert 'data-action="remix"' not in person.get("/renders").get_data(as_text=True).split(reel_id)[1][:2000]


def test_a_full_book_takes_no_more_scenes(api, adapters):
    book = new_book(api)
    stored = adapters.records.get_book(book["id"])
    from infra.domain.book import MAX_BOOK_SCENES, Chapter

    full = stored.model_copy(update={"chapters": [Chapter(scene_id=f"s{n}") for n in range(MAX_BOOK_SCENES)]})
    adapters.records.save_book(full)
    response = api.post(f"/api/books/{book['id']}/scenes", json={"text": SCENE})
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == "A book holds at most 12 scenes: start another book."
