"""The bot's client on an event loop of its own, for the web service's synchronous
requests (the webhook, a publish that posts to the channel): one initialized client per
process, started on first use (after gunicorn forked), reused by every request."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TypeVar

from telegram import Bot

log = logging.getLogger(__name__)

Result = TypeVar("Result")


class BotRunner:
    def __init__(self, make_bot: Callable[[], Bot]):
        self._make_bot = make_bot
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot: Bot | None = None

    def run(self, work: Callable[[Bot], Awaitable[Result]], timeout_s: float = 60.0) -> Result:
        """Runs `work(bot)` on the loop and waits for it."""
        return self._submit(work).result(timeout_s)

    def submit(self, work: Callable[[Bot], Awaitable[object]], what: str) -> Future:
        """Runs `work(bot)` on the loop without waiting; a failure is logged."""
        future = self._submit(work)

        def logged(done: Future) -> None:
            if done.exception() is not None:
                log.error("telegram: %s failed: %r", what, done.exception())

        future.add_done_callback(logged)
        return future

    def close(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._bot is not None:
            asyncio.run_coroutine_threadsafe(self._bot.shutdown(), loop).result(10)
            self._bot = None
        self._loop = None
        loop.call_soon_threadsafe(loop.stop)

    def _submit(self, work: Callable[[Bot], Awaitable[Result]]) -> Future:
        return asyncio.run_coroutine_threadsafe(self._with_bot(work), self._started())

    async def _with_bot(self, work: Callable[[Bot], Awaitable[Result]]) -> Result:
        if self._bot is None:
            bot = self._make_bot()
            await bot.initialize()
            self._bot = bot
        return await work(self._bot)

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=_serve, args=(loop,), name="telegram-bot", daemon=True).start()
                self._loop = loop
            return self._loop


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
