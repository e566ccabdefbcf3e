"""Idempotency-Keys and scene versions, held by the records: the same contract on SQLite and
on Firestore (its emulator)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from infra.domain.idempotency import ABANDONED_AFTER, KEEP_FOR, KeptRequest
from infra.domain.ids import now
from infra.domain.scene import Scene


def kept(key: str = "k-1", user: str = "reader-1", fingerprint: str = "f-1", at=None) -> KeptRequest:
    moment = at or now()
    return KeptRequest(user_id=user, key=key, fingerprint=fingerprint, created_at=moment, expires_at=moment + KEEP_FOR)


def test_the_first_claim_holds_a_key_and_a_repeat_finds_it(records):
    assert records.claim_request(kept()) is None
    repeat = records.claim_request(kept(fingerprint="f-2"))
    assert repeat is not None and (repeat.fingerprint, repeat.answered) == ("f-1", False)
    records.answer_request("reader-1", "k-1", 201, '{"id": "s-1"}')
    answered = records.claim_request(kept())
    assert answered is not None and (answered.status, answered.body) == (201, '{"id": "s-1"}')


def test_a_key_is_the_persons_own(records):
    assert records.claim_request(kept(user="reader-1")) is None
    assert records.claim_request(kept(user="reader-2")) is None  # the same key from someone else: their own


def test_a_released_key_may_be_held_again_but_an_answered_one_is_not_released(records):
    assert records.claim_request(kept()) is None
    records.release_request("reader-1", "k-1")
    assert records.claim_request(kept(fingerprint="f-2")) is None
    records.answer_request("reader-1", "k-1", 202, "{}")
    records.release_request("reader-1", "k-1")  # too late: the answer stays
    assert records.claim_request(kept()).status == 202


def test_an_expired_or_abandoned_key_may_be_held_again(records):
    long_ago = now() - KEEP_FOR - timedelta(seconds=1)
    assert records.claim_request(kept(key="old", at=long_ago)) is None
    records.answer_request("reader-1", "old", 201, "{}")
    assert records.claim_request(kept(key="old")) is None  # a day later the key is free
    stuck = now() - ABANDONED_AFTER - timedelta(seconds=1)
    assert records.claim_request(kept(key="stuck", at=stuck)) is None
    assert records.claim_request(kept(key="stuck")) is None  # its first request died unanswered
    just_now = now() - ABANDONED_AFTER + timedelta(seconds=30)
    assert records.claim_request(kept(key="busy", at=just_now)) is None
    assert records.claim_request(kept(key="busy")) is not None  # still being answered


def test_of_claims_at_once_exactly_one_holds_the_key(records):
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: records.claim_request(kept(key="race")), range(8)))
    assert sum(answer is None for answer in answers) == 1


def test_a_scene_is_replaced_only_at_the_version_it_was_read(records):
    scene = Scene(user_id="reader-1", text="Raskolnikov crosses the bridge.", version=3)
    records.save_scene(scene)
    first = scene.model_copy(update={"text": "first tab", "version": 4})
    assert records.replace_scene(first, 3)
    second = scene.model_copy(update={"text": "second tab", "version": 4})
    assert not records.replace_scene(second, 3)  # read at 3, but the stored one is at 4 now
    stored = records.get_scene(scene.id)
    assert (stored.text, stored.version) == ("first tab", 4)
    assert not records.replace_scene(scene.model_copy(update={"id": "no-such-scene"}), 0)


def test_a_new_scene_is_at_version_0(records):
    scene = Scene(user_id="reader-1", text="Raskolnikov crosses the bridge.")
    records.save_scene(scene)
    assert records.get_scene(scene.id).version == 0
    assert records.replace_scene(scene.model_copy(update={"version": 1}), 0)
