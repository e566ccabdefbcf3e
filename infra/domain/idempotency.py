"""A request a person may send again: the first answer to an Idempotency-Key, kept a day.

A page sends one key per thing the person did (one click on *Continue*, one on *Render*),
so a double-click or a retry after a dropped connection makes one scene, one render. The
key is the person's own: the same key from two people is two requests.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pydantic import BaseModel

#: How long a key's first answer is kept (the IETF draft leaves it to the server; Stripe keeps a day).
KEEP_FOR = timedelta(hours=24)
#: A first request still unanswered after this long died with its process: its key may be taken again.
ABANDONED_AFTER = timedelta(minutes=10)


class KeptRequest(BaseModel):
    """A person's key, the request it was first sent with, and that request's answer once there is one."""

    user_id: str
    key: str
    #: What the request asked (method, path and body), so a repeat with another body is told apart.
    fingerprint: str
    created_at: datetime
    expires_at: datetime
    #: None while the first request is still being answered.
    status: int | None = None
    body: str | None = None

    @property
    def answered(self) -> bool:
        return self.status is not None

    def lapsed(self, moment: datetime) -> bool:
        """Expired, or its first request was abandoned unanswered: the key may be held again."""
        return self.expires_at <= moment or (not self.answered and self.created_at <= moment - ABANDONED_AFTER)


def document_id(user_id: str, key: str) -> str:
    """A fixed-length name for a person's key, safe as a document id whatever the key holds."""
    return hashlib.sha256(f"{user_id}\n{key}".encode()).hexdigest()
