"""The bot on the web service: the webhook and its secret, a finished render reaching its chat
through the render's event, and what the Bot API answers besides ok (429, 403); with the
real client library against the fake Bot API server."""

from __future__ import annotations

import base64
import time

import pytest

from frontend_service import create_app
from frontend_service.telegram.front import UPLOAD_LIMIT_BYTES, URL_LIMIT_BYTES, fits_telegram
from infra.bootstrap import bootstrap
from infra.domain.render import Render
from infra.domain.scene import Scene
from infra.domain.storyboard import Storyboard, resolve_spec
from infra.settings import Settings
from tests.chat_bot.conftest import SECRET, buttons, message, press, user
from tests.chat_bot.fake_bot_api import BOT_USERNAME, Failure
from tests.usage import stored_events

MARKUP = {"title": 'Tom & Jerry <3 > "Crime"', "book": "Crime & Punishment", "author": "F. <Dostoevsky>"}
# Telegram's HTML: <, > and & as entities; quotes may stay (they are not in an attribute).
MARKUP_CAPTION = '<b>Tom &amp; Jerry &lt;3 &gt; "Crime"</b>\n<i>Crime &amp; Punishment</i>\nby F. &lt;Dostoevsky&gt;'


@pytest.fixture
def app(adapters):
    app = create_app({"TESTING": True, "START_WORKER": False}, adapters)
    yield app
    app.extensions["telegram_runner"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def post(client, update: dict, secret: str | None = SECRET):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post("/telegram/webhook", json={"update_id": int(time.time_ns() % 10**9), **update}, headers=headers)


def push(client, render_id: str, token: str = SECRET):
    """The usage topic's push subscription, as Pub/Sub documents its body."""
    body = {
        "message": {
            "attributes": {"kind": "render", "render_id": render_id},
            "data": base64.b64encode(b"avro").decode(),
            "messageId": "2070443601311540",
            "publishTime": "2021-02-26T19:13:55.749Z",
        },
        "subscription": "projects/animbooks/subscriptions/telegram-renders",
    }
    return client.post(f"/telegram/renders?token={token}", json=body)


def ready_scene(adapters, telegram_id: int, storyboard_data: dict, **changes) -> Scene:
    """A scene of the Telegram user's with its storyboard, the one the chat is on."""
    storyboard = Storyboard.model_validate(storyboard_data | changes)
    scene = Scene(user_id=f"telegram:{telegram_id}", text="The bridge at dusk.", storyboard=storyboard, state="ready")
    adapters.records.save_scene(scene)
    adapters.records.set_chat(scene.user_id, scene=scene.id)
    return scene


def finish(adapters, render: Render, tmp_path, video: bytes = b"an mp4", size: int | None = None) -> None:
    """What the render job does once it has made the clip (stand-in files)."""
    source = tmp_path / f"{render.id}.mp4"
    source.write_bytes(video)
    if size is not None:
        with open(source, "r+b") as handle:  # sparse: the size without the disk
            handle.truncate(size)
    key = f"renders/{render.id}/clip.mp4"
    adapters.storage.put_file(key, source, "video/mp4")
    adapters.records.mark_running(render.id, 1, "runner")
    adapters.records.mark_succeeded(render.id, "runner", {"video": key}, {"render_s": 3.0})


def test_the_webhook_takes_an_update_only_with_its_secret(client, fake):
    ann = user(555)
    assert post(client, message(ann, "/help"), secret=None).status_code == 403
    wrong = post(client, message(ann, "/help"), secret=SECRET + "x")
    assert wrong.status_code == 403 and "X-Telegram-Bot-Api-Secret-Token" in wrong.get_json()["error"]["message"]
    assert post(client, message(ann, "/help"), secret=SECRET.lower()).status_code == 403
    assert post(client, message(ann, "/help"), secret="").status_code == 403
    assert fake.called("sendMessage") == []  # none of those reached the bot
    assert post(client, message(ann, "/help")).status_code == 200
    [answer] = fake.called("sendMessage")
    assert answer.params["chat_id"] == 555 and answer.params["text"].startswith("Write a scene (or send /new first)")


def test_a_body_that_is_no_update_is_a_400(client, fake):
    response = client.post("/telegram/webhook", data="[]", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 400 and "update_id" in response.get_json()["error"]["message"]


def test_without_a_token_nothing_of_telegram_starts(tmp_path):
    app = create_app({"TESTING": True, "START_WORKER": False}, bootstrap(Settings(data_dir=tmp_path)))
    assert "telegram" not in app.blueprints and "telegram_runner" not in app.extensions
    client = app.test_client()
    assert client.post("/telegram/webhook", json={"update_id": 1}).status_code in (400, 404)


def test_a_429_is_waited_out_for_its_retry_after(client, fake):
    fake.fail("sendMessage", Failure(429, "Too Many Requests: retry after 1", retry_after=1))
    assert post(client, message(user(555), "/help")).status_code == 200
    first, second = fake.called("sendMessage")
    assert first.params == second.params  # the same message, sent again
    assert second.at - first.at >= 1.0  # not before Telegram said


def test_a_finished_render_reaches_its_chat_through_its_event_once_with_its_title_escaped(
    client, fake, adapters, storyboard_data, tmp_path
):
    scene = ready_scene(adapters, 555, storyboard_data, **MARKUP)
    ann = user(555)
    post(client, message(ann, "/my"))
    fake.wait_for("sendMessage", chat_id=555)
    post(client, press(ann, f"render:{scene.id}"))
    [progress] = [c for c in fake.called("sendMessage") if c.params["text"] == "Your clip is queued."]
    [render] = adapters.records.list_renders("telegram:555")
    assert push(client, render.id).status_code == 204  # not finished: nothing yet
    assert fake.called("sendVideo") == []

    finish(adapters, render, tmp_path)
    assert push(client, render.id, token="not-the-secret").status_code == 403
    assert push(client, render.id).status_code == 204
    [video] = fake.called("sendVideo")
    assert video.params["caption"] == MARKUP_CAPTION and video.params["parse_mode"] == "HTML"
    assert video.files["video"] == b"an mp4" and video.params["chat_id"] == 555
    [edited] = fake.called("editMessageText")
    assert (edited.params["message_id"], edited.params["text"]) == (progress.result_id, "Your clip is ready.")
    assert push(client, render.id).status_code == 204  # Pub/Sub delivers at least once: sent once
    assert len(fake.called("sendVideo")) == 1


def test_the_storyboard_goes_out_as_plain_text_with_markup_characters_as_written(
    client, fake, adapters, storyboard_data
):
    scene = ready_scene(adapters, 555, storyboard_data, **MARKUP)
    scene.state, scene.questions = "asking", []
    ann = user(555)
    post(client, press(ann, f"finish:{scene.id}"))  # the scene is ready: its storyboard again
    [summary] = fake.called("sendMessage")
    assert "parse_mode" not in summary.params
    assert summary.params["text"].splitlines()[:2] == [
        'Storyboard: Tom & Jerry <3 > "Crime"',
        "Crime & Punishment (F. <Dostoevsky>)",
    ]
    [render_button, edit_button] = buttons(summary)
    assert render_button["callback_data"] == f"render:{scene.id}"
    assert edit_button["url"].startswith("https://books.example.com/telegram/open/")


def test_a_user_who_blocked_the_bot_fails_no_render(client, fake, adapters, storyboard_data, tmp_path):
    scene = ready_scene(adapters, 666, storyboard_data)
    post(client, press(user(666), f"render:{scene.id}"))
    [render] = adapters.records.list_renders("telegram:666")
    fake.fail("sendVideo", Failure(403, "Forbidden: bot was blocked by the user", chat_id=666))
    fake.fail("editMessageText", Failure(403, "Forbidden: bot was blocked by the user", chat_id=666))
    finish(adapters, render, tmp_path)
    assert push(client, render.id).status_code == 204
    assert len(fake.called("sendVideo")) == 1  # tried, refused
    assert adapters.records.get_render(render.id).state == "succeeded"
    assert post(client, message(user(555), "/help")).status_code == 200  # the bot goes on
    assert fake.called("sendMessage")[-1].params["chat_id"] == 555


def test_a_clip_over_the_upload_limit_is_sent_as_a_link(client, fake, adapters, storyboard_data, tmp_path):
    assert fits_telegram(UPLOAD_LIMIT_BYTES, by_url=False) and not fits_telegram(UPLOAD_LIMIT_BYTES + 1, by_url=False)
    assert fits_telegram(URL_LIMIT_BYTES, by_url=True) and not fits_telegram(URL_LIMIT_BYTES + 1, by_url=True)
    scene = ready_scene(adapters, 555, storyboard_data)
    post(client, press(user(555), f"render:{scene.id}"))
    [render] = adapters.records.list_renders("telegram:555")
    finish(adapters, render, tmp_path, size=UPLOAD_LIMIT_BYTES + 1)
    push(client, render.id)
    assert fake.called("sendVideo") == []
    link = fake.called("sendMessage")[-1].params["text"]
    assert link.startswith("Your clip is ready, but too large to send here. Watch it on the site: ")
    assert "https://books.example.com/telegram/open/" in link


def test_the_edit_link_opens_the_scene_signed_in_as_the_telegram_account(client, fake, adapters, storyboard_data):
    scene = ready_scene(adapters, 555, storyboard_data)
    post(client, press(user(555), f"finish:{scene.id}"))
    [edit] = [b for b in buttons(fake.called("sendMessage")[-1]) if "url" in b]
    path = edit["url"].removeprefix("https://books.example.com")
    opened = client.get(path)
    assert opened.status_code == 302 and opened.headers["Location"] == f"/scenes/{scene.id}"
    assert client.get("/api/session").get_json()["user"] == "telegram:555"
    assert client.get(f"/scenes/{scene.id}").status_code == 200
    stranger = client.application.test_client()
    assert stranger.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 403


def test_in_a_group_the_bot_answers_only_when_addressed(client, fake):
    group = {"id": -1001, "type": "supergroup", "title": "Readers"}
    ann = user(555)
    post(client, message(ann, "a scene nobody asked the bot about", chat=group))
    post(client, message(ann, "/help", chat=group))  # a command for whichever bot
    assert fake.called("sendMessage") == []
    post(client, message(ann, f"/help@{BOT_USERNAME}", chat=group))
    [answer] = fake.called("sendMessage")
    assert answer.params["chat_id"] == -1001


def test_lang_chooses_the_language_over_the_clients(client, fake):
    ann = user(555, "en")
    post(client, message(ann, "/lang ru"))
    post(client, message(ann, "/new"))
    post(client, message(ann, "/lang fr"))
    said = [c.params["text"] for c in fake.called("sendMessage")]
    assert said == [
        "Теперь я говорю по-русски.",
        "Напишите сцену: кто там, где и что происходит.",
        "Напишите /lang en или /lang ru.",
    ]


def test_each_chat_has_its_rate_limit(client, fake, adapters):
    adapters.settings.telegram_chat_messages_per_minute = 2
    if time.gmtime().tm_sec > 50:  # the limit is per minute: all of it in one
        time.sleep(61 - time.gmtime().tm_sec)
    for _ in range(4):
        post(client, message(user(555), "/new"))
    post(client, message(user(556), "/new"))  # another chat has its own
    said = [(c.params["chat_id"], c.params["text"]) for c in fake.called("sendMessage")]
    new = "Write the scene: who is there, where, and what happens."
    slow = "Too many messages at once: wait a minute, then go on."
    assert said == [(555, new), (555, new), (555, slow), (556, new)]


def test_a_published_clip_is_posted_to_the_channel(app, fake, adapters, storyboard_data, tmp_path):
    from frontend_service import services
    from frontend_service.gallery_flow import PublishRequest
    from frontend_service.identity import Person

    scene = ready_scene(adapters, 555, storyboard_data, **MARKUP)
    assert scene.storyboard is not None
    render = Render(user_id=scene.user_id, scene_id=scene.id, spec=resolve_spec(scene.storyboard))
    adapters.records.create_render(render)
    finish(adapters, render, tmp_path)
    person = Person(user_id=scene.user_id, account=True, address="telegram-chat:555")
    with app.app_context():
        services.gallery_flow().publish(person, render.id, PublishRequest())
        services.gallery_flow().publish(person, render.id, PublishRequest())  # again: posted once
    [post_] = fake.wait_for("sendVideo", chat_id="@animated_books")
    link = f'<a href="https://books.example.com/gallery/{render.id}">Watch on the site</a>'
    assert post_.params["caption"] == f"{MARKUP_CAPTION}\n{link}"
    time.sleep(0.5)
    assert len(fake.called("sendVideo")) == 1


def test_channel_reactions_become_usage_events(client, fake, adapters):
    fake.members = 1200
    update = {
        "message_reaction_count": {
            "chat": {"id": -1002, "type": "channel", "title": "Animated Books", "username": "animated_books"},
            "message_id": 31,
            "date": 1764460800,  # 2025-11-30 00:00:00 UTC
            "reactions": [
                {"type": {"type": "emoji", "emoji": "👍"}, "total_count": 7},
                {"type": {"type": "emoji", "emoji": "👎"}, "total_count": 2},
                {"type": {"type": "emoji", "emoji": "🔥"}, "total_count": 3},
            ],
        }
    }
    assert post(client, update).status_code == 200
    assert post(client, update).status_code == 200  # Telegram sent it twice: one event
    [count] = fake.called("getChatMemberCount")[-1:]
    assert count.params["chat_id"] == -1002
    events = [e for e in stored_events(adapters) if e["kind"] == "channel_reaction"]
    assert {e["event_id"] for e in events} == {"channel-reaction--1002-31-1764460800"}
    event = events[0]
    assert (event["channel_id"], event["post_id"], event["likes"], event["dislikes"], event["subscribers"]) == (
        "-1002",
        31,
        7,
        2,
        1200,
    )
    assert event["event_ts"].isoformat() == "2025-11-30T00:00:00+00:00"


def test_my_lists_the_latest_clips_and_sends_one_again(client, fake, adapters, storyboard_data, tmp_path):
    ann = user(555)
    post(client, message(ann, "/my"))
    assert fake.called("sendMessage")[-1].params["text"] == "You have no clips yet. Write a scene to make one."
    scene = ready_scene(adapters, 555, storyboard_data)
    post(client, press(ann, f"render:{scene.id}"))
    [render] = adapters.records.list_renders("telegram:555")
    finish(adapters, render, tmp_path)
    post(client, message(ann, "/my"))
    listing = fake.called("sendMessage")[-1]
    assert listing.params["text"] == f"Your latest clips:\n1. {storyboard_data['title']}: ready"
    [send] = buttons(listing)
    assert (send["text"], send["callback_data"]) == ("Send 1", f"send:{render.id}")
    post(client, press(ann, send["callback_data"]))
    [video] = fake.called("sendVideo")
    assert video.params["chat_id"] == 555 and video.files["video"] == b"an mp4"
    post(client, press(user(556), send["callback_data"]))  # someone else's clip: not theirs to have
    assert len(fake.called("sendVideo")) == 1
    assert fake.called("sendMessage")[-1].params["text"] == "That scene is not here any more. Write a new one."


def test_a_telegram_account_has_the_sites_daily_quota_and_spend_breaker(client, fake, adapters, storyboard_data):
    adapters.settings.daily_render_quota = 1
    scene = ready_scene(adapters, 555, storyboard_data)
    post(client, press(user(555), f"render:{scene.id}"))
    post(client, press(user(555), f"render:{scene.id}"))  # one past the quota
    assert fake.called("sendMessage")[-1].params["text"] == (
        "You have started 1 renders today, the daily limit. It resets at 00:00 UTC."
    )
    assert len(adapters.records.list_renders("telegram:555")) == 1
    adapters.settings.daily_spend_cap_usd = 0.0  # today's budget spent
    other = ready_scene(adapters, 556, storyboard_data)
    post(client, press(user(556, "ru"), f"render:{other.id}"))
    assert fake.called("sendMessage")[-1].params["text"] == (
        "Дневной бюджет на рендеры исчерпан. Новые рендеры можно будет запускать с 00:00 UTC."
    )
    assert adapters.records.list_renders("telegram:556") == []


def test_the_webhook_command_points_telegram_at_the_site(fake, settings, monkeypatch, tmp_path):
    from frontend_service.telegram.__main__ import main

    for name, value in {
        "ANIMBOOKS_DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "ANIMBOOKS_SITE_URL": "https://books.example.com",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["webhook"]) == 0
    [call] = fake.called("setWebhook")
    assert call.params["url"] == "https://books.example.com/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query", "message_reaction_count"]


def test_without_a_token_make_bot_says_what_to_set(monkeypatch, tmp_path, capsys):
    from frontend_service.telegram.__main__ import main

    monkeypatch.setenv("ANIMBOOKS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main([]) == 2
    assert "set TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_text_answers_the_question_the_chat_is_on_and_new_starts_another_scene(client, fake, adapters):
    from infra.domain.scene import Question

    asking = Scene(
        user_id="telegram:555",
        text="The bridge at dusk.",
        questions=[Question(id="time", text="When is it?"), Question(id="weather", text="What is the weather?")],
    )
    adapters.records.save_scene(asking)
    adapters.records.set_chat(asking.user_id, scene=asking.id)
    ann = user(555)
    post(client, message(ann, "at dusk"))  # the first question's answer: it waits for the second
    held = adapters.records.get_scene(asking.id)
    assert held.held_answers == {"time": "at dusk"} and held.state == "asking"
    assert fake.called("sendMessage")[-1].params["text"] == "Question 2 of 2: What is the weather?"
    post(client, message(ann, "/new A lighthouse in a storm at night."))
    chat_scene = adapters.records.get_user("telegram:555").chat_scene
    assert chat_scene != asking.id
    assert adapters.records.get_scene(chat_scene).text == "A lighthouse in a storm at night."
    adapters.records.set_chat(asking.user_id, scene=asking.id)  # back on the first scene's questions
    post(client, message(ann, "/new"))  # then the next text is a new scene, not an answer
    post(client, message(ann, "A raven on a bust of Pallas."))
    chat_scene = adapters.records.get_user("telegram:555").chat_scene
    assert adapters.records.get_scene(chat_scene).text == "A raven on a bust of Pallas."
    assert adapters.records.get_scene(asking.id).held_answers == {"time": "at dusk"}
