"""The Idempotency-Key header on the API's creating routes (draft-ietf-httpapi-idempotency-key-header):
a repeat of a request with the same key, from the same person, gets the first answer,
status and body, and does nothing again; the same key with another request is a 422.

Only a success is kept. A refused or failed first request lets its key go, so the person
may send it again once they have changed what was wrong. A repeat that comes while the
first is still being answered (a double-click) waits for that answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from flask import Response, make_response, request
from flask_babel import gettext as _

from frontend_service import services
from frontend_service.blueprints.errors import ApiError
from frontend_service.identity import current_user
from infra.domain.idempotency import KEEP_FOR, KeptRequest
from infra.domain.ids import now

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: How long a repeat waits for the first request's answer before it is told to try again.
WAIT_FOR_FIRST_S = 30.0
_POLL_S = 0.05


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        records = services.adapters().records
        user = current_user()
        fingerprint = _fingerprint()
        deadline = time.monotonic() + WAIT_FOR_FIRST_S
        while True:
            moment = now()
            kept = records.claim_request(
                KeptRequest(
                    user_id=user, key=key, fingerprint=fingerprint, created_at=moment, expires_at=moment + KEEP_FOR
                )
            )
            if kept is None:
                break  # this request holds the key: answer it
            if kept.fingerprint != fingerprint:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    _(
                        "This Idempotency-Key was already used for a different request. "
                        "Send a new key for a new request."
                    ),
                )
            if kept.answered:
                response = Response(kept.body, status=kept.status, mimetype="application/json")
                response.headers["Idempotent-Replayed"] = "true"
                return response
            if time.monotonic() > deadline:
                error = ApiError(
                    409,
                    "idempotency_key_in_use",
                    _("The first request with this Idempotency-Key is still being answered; try again in a moment."),
                )
                raise error
            time.sleep(_POLL_S)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            records.release_request(user, key)
            raise
        if 200 <= response.status_code < 300:
            records.answer_request(user, key, response.status_code, response.get_data(as_text=True))
        else:
            records.release_request(user, key)
        return response

    return wrapper


def _key() -> str | None:
    """The header's key: a structured-field string (quoted) as the draft writes it, or bare as many clients send it."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            _(
                "The Idempotency-Key header must be 1 to %(limit)d printable ASCII characters, such as a UUID.",
                limit=MAX_KEY_LENGTH,
            ),
        )
    return key


def _fingerprint() -> str:
    """What was asked: method, path and body (JSON compared by its meaning, not its spacing)."""
    body = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except (ValueError, RecursionError):  # not JSON, or nested past the parser: the route answers 400
        canonical = body
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()
