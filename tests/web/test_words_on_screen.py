"""The book's words on screen through the site: the WebVTT track from the site's own
origin, the render's subtitle fields, the download with the words burned in."""

from __future__ import annotations

import pytest

from tests.conftest import signed_in

VTT = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:05.000\nОн вышел на мост.\n".encode()
QUOTED = [
    {"start_s": 0, "prompt": "a young man walks onto a bridge", "quote": "Он вышел на мост."},
    {"start_s": 5, "prompt": "the dark river"},
]


@pytest.fixture
def subtitled(api, finished_render):
    return finished_render(api, files={"subtitles": VTT, "subtitled": b"burned clip"}, shots=QUOTED)


def test_the_track_the_fields_and_the_burned_in_download(api, subtitled):
    render = api.get(f"/api/renders/{subtitled.id}").get_json()
    assert render["subtitles_url"] == f"/renders/{subtitled.id}/files/subtitles"
    assert render["subtitles_language"] == "ru"
    assert render["download_subtitled_url"] == f"/renders/{subtitled.id}/download?subtitles=burned"
    track = api.get(render["subtitles_url"])
    assert track.status_code == 200 and track.data == VTT
    assert track.headers["Content-Type"] == "text/vtt; charset=utf-8"
    assert track.headers["Cache-Control"] == "private, no-store"
    with api.get(render["download_subtitled_url"]) as download:
        assert download.status_code == 200 and download.data == b"burned clip"
        assert (
            download.headers["Content-Disposition"]
            == "attachment; filename=raskolnikov-crosses-the-neva-at-dusk-subtitled.mp4"
        )
    with api.get(f"/renders/{subtitled.id}/download?subtitles=none") as plain:
        assert plain.data == f"video of {subtitled.id}".encode()


def test_the_render_page_offers_them(api, subtitled):
    page = api.get(f"/renders/{subtitled.id}").get_data(as_text=True)
    assert 'id="download-subtitled"' in page


@pytest.mark.parametrize("asked", ["yes", "soft", "", "BURNED"])
def test_an_unknown_subtitles_choice_is_a_400_that_says_what_to_ask(api, subtitled, asked):
    response = api.get(f"/renders/{subtitled.id}/download?subtitles={asked}")
    assert response.status_code == 400
    assert "Ask for subtitles=burned or subtitles=none." in response.get_data(as_text=True)


def test_a_clip_without_words_says_so_when_asked_to_burn_them(api, finished_render):
    render = finished_render(api)
    status = api.get(f"/api/renders/{render.id}").get_json()
    assert "subtitles_url" not in status and "download_subtitled_url" not in status
    response = api.get(f"/renders/{render.id}/download?subtitles=burned")
    assert response.status_code == 404
    assert "This clip has no words on screen to burn in." in response.get_data(as_text=True)
    assert api.get(f"/renders/{render.id}/files/subtitles").status_code == 404


def test_others_see_the_track_once_the_clip_is_in_the_gallery(app, finished_render):
    owner = signed_in(app, "sonya@example.com", "Sonya")
    visitor = signed_in(app, "dunya@example.com", "Dunya")
    render = finished_render(owner, files={"subtitles": VTT, "subtitled": b"burned clip"}, shots=QUOTED)
    assert visitor.get(f"/renders/{render.id}/files/subtitles").status_code == 404  # private until published
    assert owner.post(f"/api/renders/{render.id}/publish", json={"display_name": "Sonya"}).status_code == 200
    track = visitor.get(f"/renders/{render.id}/files/subtitles")
    assert track.status_code == 200 and track.data == VTT and track.headers["Cache-Control"] == "public, max-age=300"
    page = visitor.get(f"/gallery/{render.id}").get_data(as_text=True)
    assert '<track kind="subtitles" srclang="ru"' in page and "download?subtitles=burned" in page


def test_a_clip_s_urls_follow_where_the_site_is_mounted(api, subtitled):
    """The clip's URLs are built once per render and mount point (blueprints/api.py _clip_urls)."""
    path = f"/api/renders/{subtitled.id}"
    mounted = api.client.get(path, environ_overrides={"SCRIPT_NAME": "/books"}).get_json()
    at_root = api.get(path).get_json()
    mounted_again = api.client.get(path, environ_overrides={"SCRIPT_NAME": "/books"}).get_json()
    expected = {
        "video_url": f"/renders/{subtitled.id}/files/video",
        "poster_url": f"/renders/{subtitled.id}/files/poster",
        "preview_url": f"/renders/{subtitled.id}/files/preview",
        "download_url": f"/renders/{subtitled.id}/download",
        "subtitles_url": f"/renders/{subtitled.id}/files/subtitles",
        "download_subtitled_url": f"/renders/{subtitled.id}/download?subtitles=burned",
    }
    assert {name: at_root[name] for name in expected} == expected
    assert {name: mounted[name] for name in expected} == {name: f"/books{url}" for name, url in expected.items()}
    assert mounted_again == mounted
