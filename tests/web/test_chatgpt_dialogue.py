"""The site with the ChatGPT engine (a local fake of the API): the flow, refusals, usage and cost."""

import pytest
from pydantic import SecretStr

from frontend_service import create_app
from infra.sqlite import SqliteDatabase
from tests.conftest import ApiClient
from tests.dialogue.fake_openai import FakeOpenAI, questions_turn, storyboard_turn
from tests.usage import stored_events


@pytest.fixture
def fake(httpserver):
    return FakeOpenAI(httpserver)


@pytest.fixture
def chat_api(adapters, fake, httpserver):
    adapters.settings.openai_api_key = SecretStr("sk-test")
    adapters.settings.openai_base_url = httpserver.url_for("/v1")
    app = create_app({"TESTING": True, "START_WORKER": False}, adapters)
    return ApiClient(app.test_client())


def scenes_stored(settings) -> int:
    return SqliteDatabase(settings.database_path).connect().execute("SELECT COUNT(*) FROM scenes").fetchone()[0]


def test_questions_answers_storyboard_and_the_bible_on_the_page(chat_api, fake, adapters):
    fake.chat(questions_turn(["What season is it?"]))
    scene = chat_api.post("/api/scenes", json={"text": "Raskolnikov crosses the Neva at dusk."}).get_json()
    assert scene["engine"] == "chatgpt" and scene["questions"][0]["text"] == "What season is it?"
    fake.chat(storyboard_turn())
    answered = chat_api.post(
        f"/api/scenes/{scene['id']}/answers", json={"answers": {scene["questions"][0]["id"]: "late summer"}}
    ).get_json()
    assert answered["state"] == "ready" and len(answered["storyboard"]["shots"]) == 3
    page = chat_api.get(f"/scenes/{scene['id']}").get_data(as_text=True)
    assert "1860s St Petersburg" in page and "invented" in page and "from the text" in page

    events = [e for e in stored_events(adapters) if e["kind"] == "dialogue_turn"]
    assert [(e["model"], e["tokens_in"], e["tokens_out"]) for e in events] == [("gpt-4o-mini", 900, 300)] * 2
    assert events[0]["cost_usd"] == pytest.approx(900 * 0.15e-6 + 300 * 0.60e-6)
    assert events[0]["pricing_version"] == "2026-11-21"
    assert {e["kind"] for e in stored_events(adapters)} == {"dialogue_turn", "moderation"}


def test_a_flagged_scene_is_refused_and_nothing_is_stored(chat_api, fake, adapters):
    fake.moderation("violence")
    response = chat_api.post("/api/scenes", json={"text": "something violent"})
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "refused",
        "message": "We can't make a clip of this: it was flagged as violence. Please describe a different scene.",
    }
    assert scenes_stored(adapters.settings) == 0
    assert [e["kind"] for e in stored_events(adapters)] == ["moderation"]


def test_an_edited_storyboard_with_flagged_prompts_is_refused(chat_api, fake, storyboard_data):
    fake.chat(storyboard_turn())
    scene = chat_api.post("/api/scenes", json={"text": "Raskolnikov crosses the Neva at dusk."}).get_json()
    before = chat_api.get(f"/api/scenes/{scene['id']}").get_json()
    fake.moderation("hate")
    response = chat_api.put(f"/api/scenes/{scene['id']}/storyboard", json=storyboard_data)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "refused"
    assert chat_api.get(f"/api/scenes/{scene['id']}").get_json() == before


def test_when_the_api_is_down_the_page_says_the_offline_engine_stood_in(chat_api, fake):
    fake.chat_status(500)
    fake.chat_status(500)
    fake.chat_status(500)
    scene = chat_api.post("/api/scenes", json={"text": "A lighthouse in a storm."}).get_json()
    assert scene["state"] == "ready"
    assert (
        scene["notice"] == "The language model is unavailable right now, so the offline assistant made this storyboard."
    )
    page = chat_api.get(f"/scenes/{scene['id']}").get_data(as_text=True)
    assert "offline assistant made this storyboard" in page
