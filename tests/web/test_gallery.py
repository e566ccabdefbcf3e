"""The gallery through the API and the pages, on SQLite: two people with accounts, one
publishes, the other finds the clip, votes, reports and remixes; the owner alone
publishes and deletes. (Anonymous people, moderation and appeals: test_moderation.py.)"""

from __future__ import annotations

import html

import pytest

from frontend_service.gallery_flow import GalleryFlow
from tests.conftest import signed_in, user_of
from tests.usage import stored_events

PAYLOAD = '<script>alert("x")</script>" onmouseover="alert(1)'
NAME_PAYLOAD = '<script>alert("x")</script>"onmouseover="alert(1)'[:40]


@pytest.fixture
def owner(app):
    return signed_in(app, "sonya@example.com", "Sonya")


@pytest.fixture
def visitor(app):
    return signed_in(app, "dunya@example.com", "Dunya")


def published(person, render, name="Sonya") -> dict:
    response = person.post(f"/api/renders/{render.id}/publish", json={"display_name": name})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_renders_are_private_until_the_owner_publishes(owner, visitor, finished_render):
    render = finished_render(owner)
    assert visitor.get(f"/renders/{render.id}/files/poster").status_code == 404
    assert visitor.get(f"/gallery/{render.id}").status_code == 404
    assert visitor.get("/api/gallery").get_json() == {"items": [], "next_page": None}
    refused = visitor.post(f"/api/renders/{render.id}/publish", json={})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    body = published(owner, render)
    assert body["listed"] and body["published"] and body["gallery_url"] == f"/gallery/{render.id}"
    with visitor.get(f"/renders/{render.id}/files/poster") as poster:
        assert poster.status_code == 200 and poster.data == f"poster of {render.id}".encode()
    [item] = visitor.get("/api/gallery").get_json()["items"]
    assert item["render_id"] == render.id and item["owner"] == "Sonya"
    assert set(item) == {
        "render_id", "title", "book", "author", "style", "aspect", "owner", "created",
        "score", "votes", "poster_url", "video_url", "preview_url",
    }  # fmt: skip
    assert visitor.delete(f"/api/renders/{render.id}/publish").status_code == 403
    assert owner.delete(f"/api/renders/{render.id}/publish").get_json()["listed"] is False
    assert visitor.get(f"/renders/{render.id}/files/poster").status_code == 404
    assert visitor.get("/api/gallery").get_json()["items"] == []


def test_taking_back_a_clip_never_published_says_so(owner, visitor, finished_render):
    """Before, this answered 500 (the unpublished publication was None)."""
    render = finished_render(owner)
    response = owner.delete(f"/api/renders/{render.id}/publish")
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == (
        "This clip was never published, so there is nothing to take out of the gallery."
    )
    assert visitor.delete(f"/api/renders/{render.id}/publish").status_code == 403
    published(owner, render)
    taken_back = owner.delete(f"/api/renders/{render.id}/publish")
    assert taken_back.status_code == 200 and taken_back.get_json()["published"] is False
    assert owner.delete(f"/api/renders/{render.id}/publish").get_json()["published"] is False  # again: the same


def test_only_a_finished_clip_can_be_published(owner, make_render, adapters):
    render = make_render(user_of(owner))
    response = owner.post(f"/api/renders/{render.id}/publish", json={})
    assert response.status_code == 409 and "finished" in response.get_json()["error"]["message"]
    assert adapters.gallery.get(render.id) is None


def test_a_display_name_is_checked_and_defaults(owner, finished_render):
    render = finished_render(owner)
    too_long = owner.post(f"/api/renders/{render.id}/publish", json={"display_name": "x" * 41})
    assert too_long.status_code == 422 and too_long.get_json()["error"]["fields"][0]["field"] == "display_name"
    assert owner.post(f"/api/renders/{render.id}/publish").status_code == 200  # no body: the default name
    [item] = owner.get("/api/gallery").get_json()["items"]
    assert item["owner"].startswith("Reader ")


def test_sorting_filters_and_pages(owner, visitor, finished_render, app):
    crime = finished_render(owner, title="Bridge", book="Crime and Punishment", author="Dostoevsky")
    war = finished_render(owner, title="Ball", book="War and Peace", author="Tolstoy")
    published(owner, crime)
    published(owner, war)
    visitor.put(f"/api/renders/{crime.id}/vote", json={"value": 1})
    assert [i["title"] for i in visitor.get("/api/gallery?sort=new").get_json()["items"]] == ["Ball", "Bridge"]
    assert [i["title"] for i in visitor.get("/api/gallery?sort=top").get_json()["items"]] == ["Bridge", "Ball"]
    assert [i["title"] for i in visitor.get("/api/gallery?author=tolstoy").get_json()["items"]] == ["Ball"]
    page = visitor.get("/api/gallery?book=War and Peace&page=2").get_json()
    assert page == {"items": [], "next_page": None}
    for query in ("sort=best", "page=0", "page=x", f"book={'b' * 201}"):
        response = visitor.get(f"/api/gallery?{query}")
        assert response.status_code == 422, query
    for _ in range(12):
        published(owner, finished_render(owner))
    first = visitor.get("/api/gallery?sort=new").get_json()
    assert len(first["items"]) == 12 and first["next_page"] == 2
    second = visitor.get("/api/gallery?sort=new&page=2").get_json()
    assert len(second["items"]) == 2 and second["next_page"] is None


def test_votes_one_per_person_changeable_each_a_usage_event(app, owner, visitor, finished_render, adapters):
    render = finished_render(owner)
    assert visitor.put(f"/api/renders/{render.id}/vote", json={"value": 1}).status_code == 404  # not published
    published(owner, render)
    body = visitor.put(f"/api/renders/{render.id}/vote", json={"value": 1}).get_json()
    assert (body["up"], body["down"], body["score"], body["my_vote"]) == (1, 0, 1, 1)
    body = visitor.put(f"/api/renders/{render.id}/vote", json={"value": 1}).get_json()
    assert body["votes"] == 1  # the same person again
    body = visitor.put(f"/api/renders/{render.id}/vote", json={"value": -1}).get_json()
    assert (body["up"], body["down"], body["my_vote"]) == (0, 1, -1)
    third = signed_in(app, "razumikhin@example.com")
    body = third.put(f"/api/renders/{render.id}/vote", json={"value": 1}).get_json()
    assert (body["up"], body["down"], body["my_vote"]) == (1, 1, 1)
    assert visitor.put(f"/api/renders/{render.id}/vote", json={"value": 0}).get_json()["votes"] == 1
    bad: object
    for bad in ({"value": 2}, {"value": "up"}, {}, []):
        assert visitor.put(f"/api/renders/{render.id}/vote", json=bad).status_code in (400, 422)
    ratings = [e for e in stored_events(adapters) if e["kind"] == "rating"]
    assert [e["status"] for e in ratings] == ["up", "up", "down", "up", "cleared"]
    assert {e["render_id"] for e in ratings} == {render.id}


def test_remix_copies_the_storyboard_into_a_scene_of_the_remixer(owner, visitor, finished_render, adapters):
    render = finished_render(owner, title="Neva at dusk")
    assert visitor.post(f"/api/renders/{render.id}/remix").status_code == 404  # private
    published(owner, render)
    response = visitor.post(f"/api/renders/{render.id}/remix")
    assert response.status_code == 201
    scene_id = response.get_json()["scene_id"]
    scene = visitor.get(f"/api/scenes/{scene_id}").get_json()
    original = render.spec.storyboard.model_dump(mode="json")
    # the storyboard, under a title of its own: never two identical cards
    assert scene["state"] == "ready" and scene["storyboard"] == original | {"title": "Remix of Neva at dusk"}
    assert owner.get(f"/api/scenes/{scene_id}").status_code == 404  # the remixer's own scene
    assert adapters.records.get_scene(scene_id).remix_of == render.id
    assert adapters.gallery.get(render.id).remixes == 1
    assert "Remixed 1 time" in visitor.get(f"/gallery/{render.id}").get_data(as_text=True)
    # The remix, rendered and published, says where it came from.
    remix_render = finished_render(visitor, title="Neva at dawn")
    adapters.records.save_scene(
        adapters.records.get_scene(remix_render.scene_id).model_copy(update={"remix_of": render.id})
    )
    published(visitor, remix_render, name="Dunya")
    page = owner.get(f"/gallery/{remix_render.id}").get_data(as_text=True)
    assert "Remixed from" in page and f'href="/gallery/{render.id}"' in page


def test_votes_and_reports_are_rate_limited(owner, visitor, finished_render, app):
    app.config["VOTE_RATE_LIMIT"] = "3 per minute"
    app.config["REPORT_RATE_LIMIT"] = "1 per minute"
    render = finished_render(owner)
    published(owner, render)
    codes = [visitor.put(f"/api/renders/{render.id}/vote", json={"value": 1}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    codes = [visitor.post(f"/api/renders/{render.id}/report").status_code for _ in range(2)]
    assert codes == [200, 429]


def test_deleting_a_render_deletes_its_files_and_its_gallery_entry(owner, visitor, finished_render, adapters):
    render = finished_render(owner)
    published(owner, render)
    visitor.put(f"/api/renders/{render.id}/vote", json={"value": 1})
    assert visitor.delete(f"/api/renders/{render.id}").status_code == 403
    assert owner.delete(f"/api/renders/{render.id}").status_code == 204
    assert all(not adapters.storage.exists(key) for key in render.artifacts.values())
    assert adapters.records.get_render(render.id) is None and adapters.gallery.get(render.id) is None
    assert owner.get(f"/api/renders/{render.id}").status_code == 404
    assert owner.delete(f"/api/renders/{render.id}").status_code == 404


@pytest.mark.parametrize(
    ("method", "action", "body"), [("vote", "put:vote", {"value": 1}), ("report", "post:report", {})]
)
def test_a_vote_or_report_on_a_clip_deleted_as_it_comes_is_not_found(
    owner, visitor, finished_render, adapters, monkeypatch, method, action, body
):
    """The clip was listed when the request read it; its owner deleted it before the vote or
    report was written (two requests at once, the order forced here)."""
    render = finished_render(owner)
    published(owner, render)
    counted = getattr(adapters.gallery, method)

    def deleted_first(*args, **kwargs):
        GalleryFlow(adapters).remove(render)  # what the owner's DELETE does, in between
        return counted(*args, **kwargs)

    monkeypatch.setattr(adapters.gallery, method, deleted_first)
    verb, path = action.split(":")
    answer = getattr(visitor, verb)(f"/api/renders/{render.id}/{path}", json=body)
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    assert adapters.gallery.get(render.id) is None
    assert [event for event in stored_events(adapters) if event["kind"] == "rating"] == []


def test_a_remix_of_a_clip_deleted_as_it_comes_is_still_the_remixer_s_scene(
    owner, visitor, finished_render, adapters, monkeypatch
):
    render = finished_render(owner, title="Neva at dusk")
    published(owner, render)
    add_remix = adapters.gallery.add_remix

    def deleted_first(render_id):
        GalleryFlow(adapters).remove(render)
        return add_remix(render_id)

    monkeypatch.setattr(adapters.gallery, "add_remix", deleted_first)
    answer = visitor.post(f"/api/renders/{render.id}/remix")
    assert answer.status_code == 201  # the storyboard was copied before the clip went
    scene = visitor.get(f"/api/scenes/{answer.get_json()['scene_id']}").get_json()
    assert scene["storyboard"]["title"] == "Remix of Neva at dusk"


def test_a_render_in_progress_cannot_be_deleted(owner, make_render, adapters):
    render = make_render(user_of(owner))
    response = owner.delete(f"/api/renders/{render.id}")
    assert response.status_code == 409 and adapters.records.get_render(render.id) is not None


def test_the_detail_page_holds_the_whole_recipe(owner, visitor, finished_render, adapters):
    render = finished_render(owner, title="Neva at dusk", book="Crime and Punishment", author="Dostoevsky")
    scene = adapters.records.get_scene(render.scene_id)
    adapters.records.save_scene(
        scene.model_copy(update={"bible": {"place": {"value": "the Neva embankment", "source": "text"}}})
    )
    published(owner, render)
    page = visitor.get(f"/gallery/{render.id}").get_data(as_text=True)
    spec = render.spec
    for expected in (
        "Neva at dusk",
        "Crime and Punishment",
        "Raskolnikov crosses the bridge.",  # the scene
        "the Neva embankment",  # the scene bible
        html.escape(spec.storyboard.shots[0].prompt, quote=True),
        spec.preset,
        str(spec.seed),
        spec.base_model,
        "12.5 s",  # render time
        f"/renders/{render.id}/files/video",
        "Shared by Sonya",
    ):
        assert expected in page, expected


def test_the_gallery_page_shows_cards_and_pages(owner, visitor, finished_render):
    assert "Nothing here yet." in visitor.get("/gallery").get_data(as_text=True)
    render = finished_render(owner, title="Bridge", style="ink wash")
    published(owner, render)
    page = visitor.get("/gallery?sort=new").get_data(as_text=True)
    assert f'href="/gallery/{render.id}"' in page and "ink wash" in page and "Sonya" in page
    assert f"/renders/{render.id}/files/preview" in page  # the animated preview on hover
    bad = visitor.get("/gallery?page=0")
    assert bad.status_code == 400 and "page" in bad.get_data(as_text=True)


@pytest.mark.parametrize("field", ["title", "book", "author", "style", "prompt", "display_name"])
def test_every_user_string_is_escaped_in_the_gallery(owner, visitor, finished_render, storyboard_data, field):
    changes: dict[str, object] = {field: PAYLOAD} if field in ("title", "book", "author", "style") else {}
    if field == "prompt":
        changes["shots"] = [dict(storyboard_data["shots"][0], prompt=PAYLOAD), *storyboard_data["shots"][1:]]
    render = finished_render(owner, **changes)
    name = NAME_PAYLOAD if field == "display_name" else "Sonya"
    published(owner, render, name=name)
    for path in ("/gallery", f"/gallery/{render.id}"):
        page = visitor.get(path).get_data(as_text=True)
        assert '<script>alert("x")' not in page and 'onmouseover="alert(1)' not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)" in page or (field == "prompt" and path == "/gallery")
    [item] = visitor.get("/api/gallery").get_json()["items"]
    card = {"display_name": item["owner"], **item}
    assert field == "prompt" or card[field] == (name if field == "display_name" else PAYLOAD)  # JSON keeps the text


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/api/renders/{id}/publish", {}),
        ("delete", "/api/renders/{id}/publish", None),
        ("put", "/api/renders/{id}/vote", {"value": 1}),
        ("post", "/api/renders/{id}/remix", None),
        ("post", "/api/renders/{id}/report", None),
        ("delete", "/api/renders/{id}", None),
    ],
)
def test_every_gallery_change_needs_the_session_s_csrf_token(owner, finished_render, adapters, method, path, body):
    render = finished_render(owner)
    published(owner, render)
    response = getattr(owner.client, method)(path.format(id=render.id), json=body)  # no X-CSRFToken header
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf"
    stored = adapters.gallery.get(render.id)
    assert (stored.votes, stored.reports, stored.remixes, stored.published) == (0, 0, 0, True)
    assert adapters.records.get_render(render.id) is not None


def test_a_remix_title_is_worded_in_the_persons_language_and_fits_the_limit(owner, visitor, finished_render):
    render = finished_render(owner, title="Н" * 120)  # the longest title a storyboard takes
    published(owner, render)
    response = visitor.post(f"/api/renders/{render.id}/remix", headers={"Accept-Language": "ru"})
    title = visitor.get(f"/api/scenes/{response.get_json()['scene_id']}").get_json()["storyboard"]["title"]
    assert title == "Ремикс: " + "Н" * (120 - len("Ремикс: ") - 1) + "…" and len(title) == 120


def test_a_card_keeps_its_clips_shape(owner, visitor, finished_render):
    render = finished_render(owner, aspect="9:16")
    published(owner, render)
    [item] = visitor.get("/api/gallery").get_json()["items"]
    assert item["aspect"] == "9:16"
    page = visitor.get("/gallery").get_data(as_text=True)
    assert 'data-aspect="9:16"' in page
    assert 'width="140" height="256"' in page  # 384x704 with its longer side at 256
    clip = visitor.get(f"/gallery/{render.id}").get_data(as_text=True)
    assert 'width="293" height="512"' in clip  # the tiny model's 64x112, 512 high
