"""A kept Idempotency-Key (infra.domain.idempotency): when it lapses, at the limit and one
step either side, and the document it is stored under."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.domain.idempotency import KEEP_FOR, KeptRequest, document_id

SENT = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(microseconds=1)


def kept(status: int | None) -> KeptRequest:
    return KeptRequest(
        user_id="anon-1", key="k", fingerprint="f", created_at=SENT, expires_at=SENT + KEEP_FOR, status=status
    )


@pytest.mark.parametrize(
    ("moment", "lapsed"),
    [
        (SENT + timedelta(hours=24) - STEP, False),
        (SENT + timedelta(hours=24), True),
        (SENT + timedelta(hours=24) + STEP, True),
    ],
)
def test_an_answered_key_lapses_when_it_expires(moment, lapsed):
    assert kept(201).lapsed(moment) is lapsed


@pytest.mark.parametrize(
    ("moment", "lapsed"),
    [
        (SENT + timedelta(minutes=10) - STEP, False),
        (SENT + timedelta(minutes=10), True),
        (SENT + timedelta(minutes=10) + STEP, True),
    ],
)
def test_an_unanswered_key_lapses_ten_minutes_after_it_was_sent(moment, lapsed):
    assert kept(None).lapsed(moment) is lapsed
    assert kept(201).lapsed(moment) is False  # answered: kept its whole day


def test_a_kept_request_is_stored_under_the_sha256_of_the_person_and_the_key():
    # printf 'anon-1\nkey-1' | sha256sum
    assert document_id("anon-1", "key-1") == "269f69a8b7c5bd5470e5ad33a4f60da3d377df86ca7528294d8c2e51a3344abd"
