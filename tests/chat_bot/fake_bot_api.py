"""A fake Telegram Bot API server on localhost, speaking the wire format of
https://core.telegram.org/bots/api: POST /bot<token>/<method> with JSON, form or multipart
parameters, answered {"ok": true, "result": ...} or {"ok": false, "error_code": ...,
"description": ..., "parameters": {"retry_after": N}}. It records every call, serves the
updates a test queues through getUpdates (long polling), and can be told to answer a
method with an error (429 with retry_after, 403 for a user who blocked the bot).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.site import free_port

BOT_ID = 7000001
BOT_USERNAME = "animated_books_bot"


#: Parameters the Bot API types Integer (a form sends every value as text).
INTEGERS = {"chat_id", "message_id", "duration", "width", "height", "offset", "timeout", "limit"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    result: Any = None

    @property
    def result_id(self) -> int:
        """The message_id of the message the call sent."""
        return self.result["message_id"]


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None
    times: int = 1


@dataclass
class FakeBotApi:
    token: str = "123456:TEST-token"
    calls: list[Call] = field(default_factory=list)
    members: int = 0
    _updates: list[dict] = field(default_factory=list)
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _next_update: int = 1
    _next_message: int = 100
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> FakeBotApi:
        self.port = free_port()
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what a test does ----------------------------------------------------------------

    def send(self, update: dict) -> dict:
        """Queues an update (its update_id added) for getUpdates."""
        with self._changed:
            update = {"update_id": self._next_update, **update}
            self._next_update += 1
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def fail(self, method: str, failure: Failure) -> None:
        self._failures.setdefault(method, []).append(failure)

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout_s: float = 120.0, **params: Any) -> list[Call]:
        """The calls of a method (with these parameters), once there are `count` of them."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                found = [
                    c for c in self.called(method) if all(str(c.params.get(k)) == str(v) for k, v in params.items())
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} {method} calls {params}; calls: {[c.method for c in self.calls]}")
                self._changed.wait(min(left, 0.5))

    def texts(self, chat_id: int) -> list[str]:
        """What the chat was told, in order: messages sent and messages edited."""
        return [
            str(c.params.get("text") or c.params.get("caption") or "")
            for c in self.calls
            if c.method in ("sendMessage", "editMessageText", "sendVideo")
            and str(c.params.get("chat_id")) == str(chat_id)
        ]

    # -- the server ----------------------------------------------------------------------

    def _app(self, environ, start_response):
        request = Request(environ)
        prefix = f"/bot{self.token}/"
        if not request.path.startswith(prefix):
            return _answer({"ok": False, "error_code": 404, "description": "Not Found"}, 404)(environ, start_response)
        method = request.path[len(prefix) :]
        params, files = _params(request)
        request.close()  # the upload's temporary files
        call = Call(method, params, files, time.monotonic())
        failure = self._failure(method, params)
        if failure is None:
            call.result = self._result(method, params)
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if failure is not None:
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return _answer(body, failure.status)(environ, start_response)
        return _answer({"ok": True, "result": call.result})(environ, start_response)

    def _failure(self, method: str, params: dict) -> Failure | None:
        with self._changed:
            for failure in self._failures.get(method, []):
                if failure.times > 0 and (
                    failure.chat_id is None or str(params.get("chat_id")) == str(failure.chat_id)
                ):
                    failure.times -= 1
                    return failure
        return None

    def _result(self, method: str, params: dict) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Animated Books", "username": BOT_USERNAME}
        if method == "getUpdates":
            return self._take_updates(int(params.get("offset") or 0), float(params.get("timeout") or 0))
        if method in ("sendMessage", "sendVideo"):
            return self._message(params, method)
        if method == "editMessageText":
            return self._message(params, method) | {"message_id": int(params["message_id"])}
        if method == "getChatMemberCount":
            return self.members
        return True  # answerCallbackQuery, setWebhook, deleteWebhook, ...

    def _take_updates(self, offset: int, timeout_s: float) -> list[dict]:
        deadline = time.monotonic() + min(timeout_s, 2.0)
        with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed ones go
            while not self._updates and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return list(self._updates)

    def _message(self, params: dict, method: str) -> dict:
        with self._changed:
            self._next_message += 1
            number = self._next_message
        chat = int(params["chat_id"]) if str(params["chat_id"]).lstrip("-").isdigit() else 0
        message: dict[str, Any] = {
            "message_id": number,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "channel", "title": "channel"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Animated Books", "username": BOT_USERNAME},
        }
        if method == "sendVideo":
            message["video"] = {
                "file_id": f"video-{number}",
                "file_unique_id": f"u{number}",
                "width": 64,
                "height": 64,
                "duration": 15,
            }
            message["caption"] = params.get("caption")
        else:
            message["text"] = params.get("text")
        return message


def _params(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The method's parameters however the client sent them (the Bot API takes all three)."""
    if request.mimetype == "application/json":
        return dict(request.get_json() or {}), {}
    params: dict[str, Any] = dict(request.form.items())
    for name, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "[{":  # JSON-serialized objects, as the Bot API asks
            with contextlib.suppress(json.JSONDecodeError):
                params[name] = json.loads(value)
    for name in INTEGERS & set(params):
        if isinstance(params[name], str) and params[name].lstrip("-").isdigit():
            params[name] = int(params[name])
    files = {name: storage.read() for name, storage in request.files.items()}
    return params, files


def _matches(call: Call, params: dict[str, Any]) -> bool:
    return all(str(call.params.get(name)) == str(value) for name, value in params.items())


def _answer(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
