"""The Telegram front: the product in a chat (front.py), over the same flows and ports as
the site. Two ways to run it: long polling beside `make run` (`make bot`,
`python -m frontend_service.telegram`), or the web service's webhook (webhook.py), where
finished renders reach the chat through their usage event. Without TELEGRAM_BOT_TOKEN
none of it starts.
"""

from __future__ import annotations

import os

# python-telegram-bot 22 warns on every 429 that retry_after becomes a timedelta in its next
# major version; opting in now, as it asks, reads the same Bot API answer without the warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from frontend_service.flow import SceneFlow
from frontend_service.telegram.front import TelegramFront
from frontend_service.telegram.links import SiteLinks
from infra.bootstrap import Adapters


def build_front(adapters: Adapters, scenes: SceneFlow, secret_key: str) -> TelegramFront:
    return TelegramFront(adapters, scenes, SiteLinks(adapters.settings.site_url, secret_key))
