"""The clarifying dialogue: from a scene to a storyboard, through a few questions.

Three engines, chosen once when the site starts (build_engine):

1. ChatGPT, when OPENAI_API_KEY is set (any OpenAI-compatible server through OPENAI_BASE_URL);
2. else the local language model, when its weights are present (ANIMBOOKS_LLM_MODEL, or
   what `make weights` put in the data folder) and torch and transformers can be imported
   (`make run` on a developer's machine; the website's image has no torch);
3. else the offline engine: rules and dictionaries.

The offline engine also stands in, for one answer, whenever either model fails.
"""

from __future__ import annotations

import importlib.util
import logging

from frontend_service.dialogue.engine import DialogueEngine
from frontend_service.dialogue.offline import OfflineEngine
from infra.settings import Settings

log = logging.getLogger(__name__)


def build_engine(settings: Settings) -> DialogueEngine:
    """The dialogue engine for these settings. Nothing connects or loads here: the client
    connects, and the local model loads, on first use."""
    if settings.openai_api_key is not None:
        return _chatgpt(settings)
    if settings.llm_model is not None:
        missing = [name for name in ("torch", "transformers", "lmformatenforcer") if not _importable(name)]
        if not missing:
            from frontend_service.dialogue.local_model import LocalModelEngine, TransformersGenerator

            log.info("no OPENAI_API_KEY: the dialogue uses the local language model in %s", settings.llm_model)
            return LocalModelEngine(TransformersGenerator(settings.llm_model, max_time_s=settings.llm_timeout_s))
        log.info("a local language model is at %s, but %s cannot be imported here", settings.llm_model, missing)
    log.info("no OPENAI_API_KEY: the dialogue uses the offline engine")
    return OfflineEngine()


def _chatgpt(settings: Settings) -> DialogueEngine:
    import openai

    from frontend_service.dialogue.chatgpt import ChatGPTEngine

    assert settings.openai_api_key is not None
    client = openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_s,
        max_retries=2,  # the SDK retries 429 and 5xx with exponential backoff
    )
    return ChatGPTEngine(client, settings.openai_model)


def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None
