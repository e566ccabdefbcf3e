"""The bot against a fake Bot API server, through the real client library (python-telegram-bot)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from itertools import count

import pytest

from frontend_service.telegram.__main__ import front_for, poll
from frontend_service.telegram.front import TelegramFront, make_bot
from infra.bootstrap import Adapters, bootstrap
from infra.settings import Settings
from tests.chat_bot.fake_bot_api import BOT_ID, BOT_USERNAME, FakeBotApi
from tests.conftest import ADMIN_EMAIL

SECRET = "webhook-Secret_42"
_numbers = count(1)


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    server = FakeBotApi().start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path, fake):
    return Settings(
        data_dir=tmp_path / "data",
        device="cpu",
        admin_emails=[ADMIN_EMAIL],
        telegram_bot_token=fake.token,
        telegram_webhook_secret=SECRET,
        telegram_api_url=fake.url,
        telegram_channel_id="@animated_books",
        site_url="https://books.example.com",
    )


@pytest.fixture
def adapters(settings) -> Adapters:
    return bootstrap(settings)


class RunningBot:
    def __init__(self, front: TelegramFront, fake: FakeBotApi):
        self.front, self.fake = front, fake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        bot = make_bot(self.fake.token, self.fake.url, poll_timeout_s=1)
        async with bot:
            await poll(self.front, bot, self._stop, timeout_s=1)

    def __enter__(self) -> RunningBot:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@pytest.fixture
def polling(adapters, fake) -> Iterator[RunningBot]:
    """`make bot`: long polling the fake server, with the flows over the test's data folder."""
    with RunningBot(front_for(adapters), fake) as running:
        yield running


def user(user_id: int, language: str = "en", name: str = "Ann") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": language}


def message(sender: dict, text: str, chat: dict | None = None, **extra) -> dict:
    """An update with a message, as Telegram sends it (a command carries its bot_command entity)."""
    body = {
        "message_id": next(_numbers),
        "date": int(time.time()),
        "chat": chat or {"id": sender["id"], "type": "private", "first_name": sender["first_name"]},
        "from": sender,
        "text": text,
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}]
    return {"message": body | extra}


def press(sender: dict, data: str, chat_id: int | None = None) -> dict:
    """An update with a callback query: the person pressed an inline button of a bot's message."""
    chat_id = chat_id or sender["id"]
    bot_message = {
        "message_id": next(_numbers),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": sender["first_name"]},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Animated Books", "username": BOT_USERNAME},
        "text": "...",
    }
    return {
        "callback_query": {
            "id": str(next(_numbers)),
            "from": sender,
            "chat_instance": "1",
            "data": data,
            "message": bot_message,
        }
    }


def buttons(call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]
