"""The whole chat, /start to a received 15-second MP4, through `make bot`'s long polling:
the real client library (python-telegram-bot) against the fake Bot API server, the real
flows over SQLite, the real render job with the tiny model."""

from __future__ import annotations

import time

import pytest

from infra.local_worker import LocalWorker
from tests.chat_bot.conftest import buttons, message, press, user
from tests.media import probe

pytestmark = pytest.mark.slow

HELLO = {
    "en": "Hello, Ann! I turn a scene from a book into a 15-second animated clip.",
    "ru": "Здравствуйте, Ann! Я превращаю сцену из книги в анимированный клип на 15 секунд.",
}
SCENES = {
    "en": "Raskolnikov crosses the Neva bridge at dusk, wind over the water.",
    "ru": "Раскольников переходит мост через Неву в сумерках, ветер над водой.",
}
QUESTION = {"en": "Question 1 of", "ru": "Вопрос 1 из"}
READY = {"en": "Your clip is ready.", "ru": "Ваш клип готов."}
RENDER = {"en": "Render", "ru": "Рендер"}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_scene_from_start_to_a_clip_in_the_chat(polling, fake, adapters, tmp_path, language):
    ann = user(4242, language)
    fake.send(message(ann, "/start"))
    [hello] = fake.wait_for("sendMessage", chat_id=4242)
    assert hello.params["text"].startswith(HELLO[language])

    fake.send(message(ann, SCENES[language]))
    asked = fake.wait_for("sendMessage", count=2, chat_id=4242)[-1]
    if asked.params["text"].startswith(QUESTION[language]):
        # A question, one message; answered with plain text, then the rest skipped by its button.
        fake.send(message(ann, "at dusk, in a cold wind" if language == "en" else "в сумерках, холодный ветер"))
        following = fake.wait_for("sendMessage", count=3, chat_id=4242)[-1]
        skip_all = [b for b in buttons(following) if b.get("callback_data", "").startswith("finish:")]
        if skip_all:
            fake.send(press(ann, skip_all[0]["callback_data"]))
    storyboard = fake.wait_for("sendMessage", chat_id=4242, timeout_s=60)
    summary = next(c for c in reversed(storyboard) if any(b["text"] == RENDER[language] for b in buttons(c)))
    [render_button] = [b for b in buttons(summary) if b["text"] == RENDER[language]]
    [edit_button] = [b for b in buttons(summary) if "url" in b]
    assert edit_button["url"].startswith("https://books.example.com/telegram/open/")
    assert summary.params["text"].splitlines()[0].startswith("Storyboard: " if language == "en" else "Раскадровка: ")

    fake.send(press(ann, render_button["callback_data"]))
    [render] = _wait_for_renders(adapters, "telegram:4242")
    assert render.user_id == "telegram:4242" and render.quota  # an account's quota, as on the site
    assert LocalWorker(adapters, adapters.queue).run_once()  # the real job, as a subprocess

    [video] = fake.wait_for("sendVideo", chat_id=4242)
    assert video.params["supports_streaming"] in (True, "true", "True")
    assert video.params["parse_mode"] == "HTML"
    assert video.params["caption"].startswith(f"<b>{render.spec.storyboard.title}</b>".replace("&", "&amp;"))
    clip = tmp_path / "received.mp4"
    clip.write_bytes(video.files["video"])
    assert probe(clip)["duration_s"] == 15.0
    # One progress message, edited to the end: no second message says "ready".
    edits = fake.wait_for("editMessageText", chat_id=4242)
    assert edits[-1].params["text"] == READY[language]
    assert {e.params["message_id"] for e in edits} == {edits[0].params["message_id"]}
    assert adapters.records.get_render(render.id).state == "succeeded"


def _wait_for_renders(adapters, user_id: str, timeout_s: float = 60):
    deadline = time.monotonic() + timeout_s
    while not (renders := adapters.records.list_renders(user_id)):
        assert time.monotonic() < deadline, "the bot started no render"
        time.sleep(0.2)
    return renders


def test_a_longer_clip_than_the_chat_s_plan_allows_is_refused_in_its_language(polling, fake, adapters, storyboard_data):
    """A 30-second storyboard (made on the site, say) rendered from the chat of an account on
    the free plan: the chat says why, in the person's language, and nothing starts."""
    from infra.domain.scene import Scene
    from infra.domain.storyboard import Storyboard

    storyboard = Storyboard.model_validate(storyboard_data | {"clip_seconds": 30})
    scene = Scene(user_id="telegram:77", text="A lighthouse.", storyboard=storyboard, state="ready")
    adapters.records.save_scene(scene)
    fake.send(press(user(77, "ru"), f"render:{scene.id}"))
    [said] = fake.wait_for("sendMessage", chat_id=77)
    assert said.params["text"] == (
        "Не сейчас: ваш тариф позволяет ролики по 15 с, а не 30 с: выберите одну из этих длин в раскадровке или "
        "попросите администратора о тарифе с более длинными роликами"
    )
    assert adapters.records.list_renders("telegram:77") == []


def test_a_failed_render_is_told_in_the_chat_s_language(polling, fake, adapters, storyboard_data):
    """The progress message ends on why the render failed: the kind's sentence, in Russian,
    not the job's English reason."""
    from infra.domain import failures
    from infra.domain.scene import Scene
    from infra.domain.storyboard import Storyboard

    scene = Scene(
        user_id="telegram:78", text="Маяк.", storyboard=Storyboard.model_validate(storyboard_data), state="ready"
    )
    adapters.records.save_scene(scene)
    fake.send(press(user(78, "ru"), f"render:{scene.id}"))
    [render] = _wait_for_renders(adapters, "telegram:78")
    assert adapters.records.mark_failed(render.id, failures.out_of_memory("cuda", 512, 512))
    edits = fake.wait_for("editMessageText", chat_id=78)
    assert edits[-1].params["text"] == (
        "Рендер не удался: Рендереру не хватило памяти. Попробуйте пресет draft или меньший размер."
    )
