"""The clarifying dialogue: from a scene to a storyboard, through a few questions."""

from __future__ import annotations

import logging

from frontend_service.dialogue.engine import DialogueEngine
from frontend_service.dialogue.offline import OfflineEngine
from infra.settings import Settings


def build_engine(settings: Settings) -> DialogueEngine:
    """ChatGPT when an API key is set (any OpenAI-compatible server through OPENAI_BASE_URL),
    the offline engine otherwise. Nothing connects here: the client connects on first use."""
    if settings.openai_api_key is None:
        logging.getLogger(__name__).info("no OPENAI_API_KEY: the dialogue uses the offline engine")
        return OfflineEngine()
    import openai

    from frontend_service.dialogue.chatgpt import ChatGPTEngine

    client = openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_s,
        max_retries=2,  # the SDK retries 429 and 5xx with exponential backoff
    )
    return ChatGPTEngine(client, settings.openai_model)
