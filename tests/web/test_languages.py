"""English and Russian: from the browser's Accept-Language, or the switch, remembered."""

import pytest


def test_english_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Write a scene from a book" in page


def test_russian_from_the_browser(client):
    page = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert "Опишите сцену из книги" in page and "Демо-ролики" in page and "make weights" in page
    assert "Write a scene from a book" not in page


def test_the_switch_wins_and_is_remembered(client):
    client.get("/?lang=ru", headers={"Accept-Language": "en"})
    page = client.get("/renders", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Мои ролики" in page and '<a href="?lang=en"' in page
    client.get("/?lang=en")
    assert "My renders" in client.get("/renders").get_data(as_text=True)


def test_an_unknown_language_falls_back_to_english(client):
    assert "Write a scene from a book" in client.get("/?lang=xx", headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )


@pytest.mark.parametrize("key", ["saved", "tokens", "seconds_left", "failed", "server"])
def test_the_scripts_strings_are_translated_too(client, key):
    import json
    import re

    page = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="i18n">(.*?)</script>', page, re.S)
    assert found, "the page carries its strings"
    strings = json.loads(found[1])
    assert re.search("[а-яё]", strings[key], re.IGNORECASE), strings[key]


def test_every_catalogue_entry_is_translated():
    from babel.messages.pofile import read_po

    from tests.conftest import ROOT

    with open(ROOT / "frontend_service/translations/ru/LC_MESSAGES/messages.po", "rb") as file:
        catalogue = read_po(file)
    with open(ROOT / "frontend_service/translations/messages.pot", "rb") as file:
        template = read_po(file)
    assert {m.id for m in template if m.id} <= {m.id for m in catalogue if m.id and m.string and not m.fuzzy}


# ---- the API's errors, in the language the request asks for ----------------------------

RUSSIAN = {"Accept-Language": "ru-RU,ru;q=0.9"}


def test_api_errors_answer_in_russian_by_accept_language(app, api, adapters, finished_render):
    """Each kind of refusal, with Accept-Language: ru and no language chosen on the site:
    the message is the catalogue's Russian, worked out here by hand."""

    def message(response, status: int) -> str:
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()["error"]["message"]

    assert message(api.get("/api/renders/nope", headers=RUSSIAN), 404) == "Такого рендера нет."
    scene = api.post("/api/scenes", json={"text": "Маяк в бурю."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    # pydantic's "at least 1 item(s)": one Russian form per count (ngettext), on the exact field
    empty = api.put(
        f"/api/scenes/{scene['id']}/storyboard", json={"title": "Маяк", "shots": []}, headers=RUSSIAN
    ).get_json()["error"]
    assert empty["fields"] == [{"field": "shots", "message": "здесь нужен хотя бы 1 элемент"}]
    assert empty["message"] == "Исправьте, пожалуйста: shots: здесь нужен хотя бы 1 элемент"
    long_title = api.put(
        f"/api/scenes/{scene['id']}/storyboard",
        json={"title": "М" * 121, "shots": [{"start_s": 0, "prompt": "a lighthouse"}]},
        headers=RUSSIAN,
    ).get_json()["error"]["fields"]
    assert long_title == [{"field": "title", "message": "это слишком длинно: не больше 120 символов"}]
    late = api.put(
        f"/api/scenes/{scene['id']}/storyboard",
        json={"title": "Маяк", "shots": [{"start_s": 1, "prompt": "a lighthouse"}]},
        headers=RUSSIAN,
    ).get_json()["error"]["fields"]
    assert late == [
        {"field": "shots.0.start_s", "message": "первый кадр должен начинаться с 0 с, а он начинается с 1.0 с"}
    ]
    assert message(api.post(f"/api/scenes/{scene['id']}/answers", json={"answers": {}}, headers=RUSSIAN), 409) == (
        "У этой сцены уже есть раскадровка; правьте раскадровку."
    )
    no_token = app.test_client().post("/api/scenes", json={"text": "x"}, headers=RUSSIAN)
    assert message(no_token, 400) == "Токен сессии отсутствует или устарел: перезагрузите страницу и попробуйте снова."
    # the daily quota, in the plural form its count takes
    adapters.settings.anonymous_daily_render_quota = 1
    assert api.post(f"/api/scenes/{scene['id']}/renders", json={}).status_code == 202
    quota = message(api.post(f"/api/scenes/{scene['id']}/renders", json={}, headers=RUSSIAN), 429)
    assert quota.startswith("Сегодня вы запустили 1 рендер — это дневной лимит. Он обнулится в 00:00 UTC, через ")


def test_a_count_of_tokens_takes_its_russian_plural_form_and_the_method_its_word(api):
    """Estimated by hand: 2 for the start and end, 1 for each one-letter word, 1 for a comma."""
    scene = api.post("/api/scenes", json={"text": "Маяк в бурю."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")

    def shot_message(words: int) -> str:
        shots = [{"start_s": 0, "prompt": " ".join(["a"] * words)}]
        answer = api.put(
            f"/api/scenes/{scene['id']}/storyboard", json={"title": "Маяк", "shots": shots}, headers=RUSSIAN
        )
        return answer.get_json()["error"]["fields"][0]["message"]

    tail = "; текстовый кодировщик читает не больше 77, сократите его"
    assert shot_message(81) == "промпт кадра 1 вместе с камерой и стилем — 83 токена (оценка)" + tail
    assert shot_message(83) == "промпт кадра 1 вместе с камерой и стилем — 85 токенов (оценка)" + tail
    look = {"style": " ".join(["a"] * 38), "period": "a"}  # 2 + 38 + 1 + 1 = 42
    book = api.post("/api/books", json={"title": "Идиот", "bible": look}, headers=RUSSIAN).get_json()["error"]
    assert book["fields"][0]["message"].startswith("стиль и эпоха вместе занимают 42 токена (оценка); ")
    look = {"style": " ".join(["a"] * 37), "period": "a"}  # 41
    book = api.post("/api/books", json={"title": "Идиот", "bible": look}, headers=RUSSIAN).get_json()["error"]
    assert book["fields"][0]["message"].startswith("стиль и эпоха вместе занимают 41 токен (оценка); ")


def test_the_quota_message_takes_each_russian_plural_form(app):
    from flask_babel import force_locale, ngettext

    one, few, many = (
        "Сегодня вы запустили %d рендер — это дневной лимит.",
        "Сегодня вы запустили %d рендера — это дневной лимит.",
        "Сегодня вы запустили %d рендеров — это дневной лимит.",
    )
    with app.test_request_context(), force_locale("ru"):
        for count, expected in ((1, one), (3, few), (5, many), (21, one), (22, few), (11, many)):
            worded = ngettext(
                "You have started %(num)d render today, the daily limit. "
                "It resets at 00:00 UTC, in %(hours)d h %(minutes)d min.",
                "You have started %(num)d renders today, the daily limit. "
                "It resets at 00:00 UTC, in %(hours)d h %(minutes)d min.",
                count,
                hours=1,
                minutes=2,
            )
            assert worded.startswith(expected % count), (count, worded)


def test_a_vote_on_ones_own_clip_is_refused_in_russian(app, finished_render):
    from tests.conftest import signed_in

    owner = signed_in(app, "owner@example.com", "Owner")
    render = finished_render(owner)
    assert owner.post(f"/api/renders/{render.id}/publish", json={}).status_code == 200
    refused = owner.put(f"/api/renders/{render.id}/vote", json={"value": 1}, headers=RUSSIAN)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"] == "За свой ролик голосовать нельзя."


def test_a_failed_render_says_why_in_the_person_s_language(api, adapters, make_render):
    """The stored reason stays as the job wrote it (English, for the logs and the API's
    `error`); the person reads its kind's sentence in their language (`error_message`)."""
    from infra.domain import failures
    from tests.conftest import user_of

    render = make_render(user_id=user_of(api))
    reason = failures.gave_up(failures.process_stopped(3, "error: " + failures.out_of_memory("cuda", 512, 512)), 2)
    assert adapters.records.mark_failed(render.id, reason)
    english = api.get(f"/api/renders/{render.id}").get_json()
    russian = api.get(f"/api/renders/{render.id}", headers=RUSSIAN).get_json()
    assert english["error"] == russian["error"] == reason
    assert english["error_message"] == "The renderer ran out of memory. Try the draft preset or a smaller size."
    assert russian["error_message"] == "Рендереру не хватило памяти. Попробуйте пресет draft или меньший размер."


def test_a_render_queued_again_after_a_failed_attempt_is_not_told_it_failed(api, adapters, make_render):
    """A retried render keeps its last attempt's note in `error`; it has not failed."""
    from infra.domain import failures
    from tests.conftest import user_of

    render = make_render(user_id=user_of(api))
    assert adapters.records.mark_running(render.id, 1, "runner-1")
    assert adapters.records.requeue(render.id, note=failures.process_stopped(1, ""), runner="runner-1")
    status = api.get(f"/api/renders/{render.id}").get_json()
    assert (status["state"], status["error"]) == ("queued", "the render process stopped unexpectedly (exit status 1)")
    assert "error_message" not in status
