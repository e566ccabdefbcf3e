"""`make bot`: the bot by long polling, beside `make run` over the same data folder.

python -m frontend_service.telegram             poll for updates until Ctrl-C
python -m frontend_service.telegram webhook     point Telegram at the web service's
                                                webhook (ANIMBOOKS_SITE_URL/telegram/webhook)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import threading

from telegram import Bot
from telegram.error import Conflict, NetworkError

from frontend_service import site_secret_key
from frontend_service.dialogue import build_engine
from frontend_service.flow import SceneFlow
from frontend_service.telegram import build_front
from frontend_service.telegram.front import ALLOWED_UPDATES, TelegramFront, make_bot
from infra.bootstrap import Adapters, bootstrap
from infra.settings import ConfigurationError

log = logging.getLogger("frontend_service.telegram")

#: Seconds one getUpdates waits for an update (Telegram's long polling); how often renders are looked at.
POLL_TIMEOUT_S = 25
WATCH_EVERY_S = 2.0


async def poll(front: TelegramFront, bot: Bot, stop: threading.Event, timeout_s: int = POLL_TIMEOUT_S) -> None:
    """Takes updates by getUpdates and handles each; meanwhile watches the renders started here."""
    front.watch_unfinished()
    watcher = asyncio.create_task(_watch(front, bot, stop))
    offset: int | None = None
    try:
        while not stop.is_set():
            try:
                updates = await bot.get_updates(offset=offset, timeout=timeout_s, allowed_updates=ALLOWED_UPDATES)
            except Conflict as error:
                raise SystemExit(
                    f"telegram: this bot has a webhook or another poller ({error}); stop that first"
                ) from None
            except NetworkError as error:  # the server away for a moment: ask again
                log.warning("telegram: getUpdates failed (%s); trying again", error)
                await asyncio.sleep(1)
                continue
            for update in updates:
                offset = update.update_id + 1
                try:
                    await front.handle(bot, update)
                except Exception:  # one update's failure is not the bot's
                    log.exception("telegram: update %s not handled", update.update_id)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _watch(front: TelegramFront, bot: Bot, stop: threading.Event) -> None:
    while not stop.is_set():
        await front.watch(bot)
        await asyncio.sleep(WATCH_EVERY_S)


def front_for(adapters: Adapters) -> TelegramFront:
    settings = adapters.settings
    return build_front(adapters, SceneFlow(adapters, build_engine(settings)), site_secret_key(settings))


async def set_webhook(bot: Bot, site_url: str, secret: str) -> bool:
    return await bot.set_webhook(f"{site_url}/telegram/webhook", secret_token=secret, allowed_updates=ALLOWED_UPDATES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m frontend_service.telegram", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", choices=["poll", "webhook"], default="poll")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        adapters = bootstrap()
    except (ConfigurationError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    settings = adapters.settings
    if settings.telegram_bot_token is None:
        print("telegram: set TELEGRAM_BOT_TOKEN (from @BotFather) to run the bot", file=sys.stderr)
        return 2
    bot = make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_url, POLL_TIMEOUT_S)
    if arguments.command == "webhook":
        if settings.telegram_webhook_secret is None:
            print("telegram: set TELEGRAM_WEBHOOK_SECRET, the secret the webhook checks", file=sys.stderr)
            return 2
        secret = settings.telegram_webhook_secret.get_secret_value()

        async def point() -> bool:
            async with bot:
                return await set_webhook(bot, settings.site_url, secret)

        print(f"telegram: webhook {'set' if asyncio.run(point()) else 'NOT set'}: {settings.site_url}/telegram/webhook")
        return 0
    front, stop = front_for(adapters), threading.Event()

    async def run() -> None:
        async with bot:
            log.info("telegram: @%s polling (Ctrl-C stops it)", bot.username)
            await poll(front, bot, stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
