"""The site with the local language model (a tiny random-weight model built in code): the
page says which engine drafted the storyboard, and each model call is a usage event."""

import pytest

from frontend_service import create_app
from infra.domain.pricing import PRICING_VERSION
from tests.conftest import ApiClient
from tests.dialogue import tiny_language_model
from tests.usage import stored_events


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_language_model.build(tmp_path_factory.mktemp("tiny-language-model"))


@pytest.fixture
def local_api(adapters, tiny_model):
    adapters.settings.llm_model = tiny_model
    app = create_app({"TESTING": True, "START_WORKER": False}, adapters)
    with tiny_language_model.one_thread():
        yield ApiClient(app.test_client())


@pytest.mark.slow
def test_the_local_model_drafts_and_the_page_says_so(local_api, adapters, tiny_model):
    scene = local_api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    assert scene["state"] == "asking" and scene["engine"] == "offline"  # the rules ask
    scene = local_api.post(f"/api/scenes/{scene['id']}/finish").get_json()
    assert scene["state"] == "ready" and scene["engine"] == "local" and scene["notice"] is None
    page = local_api.get(f"/scenes/{scene['id']}").get_data(as_text=True)
    assert 'data-engine="local"' in page
    assert "A language model running on this machine drafted this storyboard." in page
    russian = local_api.get(f"/scenes/{scene['id']}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Эту раскадровку составила языковая модель, работающая на этом компьютере." in russian

    turns = [event for event in stored_events(adapters) if event["kind"] == "dialogue_turn"]
    assert [event["model"] for event in turns] == ["offline", tiny_model.name]
    local = turns[-1]
    assert local["tokens_in"] > 200 and local["tokens_out"] > 0 and local["status"] == "ok"
    # It runs on the person's own machine: it costs nothing, and says it has no price.
    assert local["cost_usd"] == 0 and local["pricing_version"] == f"{PRICING_VERSION}:unpriced-model"


def test_the_page_names_the_offline_engine(api):
    scene = api.post("/api/scenes", json={"text": "A lighthouse.", "passage": None}).get_json()
    scene = api.post(f"/api/scenes/{scene['id']}/finish").get_json()
    assert scene["engine"] == "offline"
    page = api.get(f"/scenes/{scene['id']}").get_data(as_text=True)
    assert "The offline assistant drafted this storyboard: rules and dictionaries, no language model." in page
