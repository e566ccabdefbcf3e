"""A local HTTP fake of the OpenAI API, driven by the real `openai` SDK.

It speaks the wire format of /v1/chat/completions and /v1/moderations, answers in the
order the test scripts it, and keeps every request so a test can read what was sent.
"""

from __future__ import annotations

import json
import time

import openai
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CATEGORIES = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
]


def bible(language: str = "en") -> dict:
    detail = {"value": "dusk", "source": "text"}
    return {
        "characters": [{"name": "Raskolnikov", "look": "gaunt young man", "costume": "worn coat", "source": "text"}],
        "place": {"value": "a stone bridge over the Neva", "source": "text"},
        "era": {"value": "1860s St Petersburg", "source": "invented"},
        "season": {"value": "late summer", "source": "invented"},
        "time_of_day": detail,
        "weather": {"value": "wind", "source": "invented"},
        "mood": {"value": "gloomy", "source": "invented"},
        "action": {"value": "he crosses the bridge and stops", "source": "text"},
    }


def questions_turn(questions: list[str], language: str = "en") -> dict:
    return {"language": language, "bible": bible(language), "questions": questions, "storyboard": None}


def storyboard_turn(shots: list[dict] | None = None, **changes) -> dict:
    storyboard = {
        "title": "The bridge",
        "style": "oil painting, muted ochre and grey",
        "negative_prompt": "electric light, cars, modern clothes, blurry, watermark",
        "shots": shots
        or [
            {
                "start_s": 0,
                "prompt": "a gaunt young man in a worn coat walks onto a stone bridge at dusk",
                "camera": "wide shot",
            },
            {
                "start_s": 5,
                "prompt": "he stops at the railing and stares at golden domes across the river",
                "camera": "medium shot",
            },
            {"start_s": 10, "prompt": "wind ruffles the dark river under a low orange sky", "camera": "slow push in"},
        ],
    } | changes
    return {"language": "en", "bible": bible(), "questions": [], "storyboard": storyboard}


class FakeOpenAI:
    def __init__(self, server: HTTPServer):
        self.server = server
        self.requests: list[tuple[str, dict]] = []
        self._chat: list = []
        self._moderation: list = []
        server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(self._answer_chat)
        server.expect_request("/v1/moderations", method="POST").respond_with_handler(self._answer_moderation)

    def client(self, timeout: float = 5.0, max_retries: int = 0) -> openai.OpenAI:
        return openai.OpenAI(
            api_key="sk-test", base_url=self.server.url_for("/v1"), timeout=timeout, max_retries=max_retries
        )

    # What the next requests get, in order.
    def chat(self, turn: dict, tokens: tuple[int, int] | None = (900, 300)) -> None:
        """Scripts the next answer; tokens=None reports usage estimated from the text sizes."""
        self._chat.append(("json", json.dumps(turn), tokens))

    def chat_raw(self, content: str) -> None:
        self._chat.append(("json", content, (900, 40)))

    def chat_status(self, status: int) -> None:
        self._chat.append(("status", status, None))

    def chat_slow(self, seconds: float, turn: dict) -> None:
        self._chat.append(("slow", seconds, turn))

    def moderation(self, *flagged: str) -> None:
        self._moderation.append(set(flagged))

    def sent(self, path: str) -> list[dict]:
        return [body for kind, body in self.requests if kind == path]

    def _answer_chat(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append(("chat", body))
        kind, value, extra = self._chat.pop(0)
        if kind == "status":
            return Response(
                json.dumps({"error": {"message": "boom", "type": "server_error"}}),
                status=value,
                content_type="application/json",
            )
        if kind == "slow":
            time.sleep(value)
            value, extra = json.dumps(extra), (900, 300)
        # With no scripted usage: an estimate from the sizes, about four characters a token.
        prompt_tokens, completion_tokens = extra or (len(json.dumps(body["messages"])) // 4, len(value) // 4)
        completion = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": value, "refusal": None},
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return Response(json.dumps(completion), content_type="application/json")

    def _answer_moderation(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append(("moderation", body))
        flagged = self._moderation.pop(0) if self._moderation else set()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        results = [
            {
                "flagged": bool(flagged),
                "categories": {c: c in flagged for c in CATEGORIES},
                "category_scores": {c: 0.9 if c in flagged else 0.01 for c in CATEGORIES},
                "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
            }
            for _ in inputs
        ]
        return Response(
            json.dumps({"id": "modr-fake", "model": body["model"], "results": results}), content_type="application/json"
        )
