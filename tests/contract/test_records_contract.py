"""The records contract: status transitions, queries, scenes. Every test runs on the
SQLite adapter and on the Firestore adapter against its emulator."""

from datetime import timedelta

import pytest

from infra.domain.ids import now
from infra.domain.plan import Plan
from infra.domain.render import Render
from infra.domain.scene import Question, Scene
from infra.domain.storyboard import Storyboard, resolve_spec
from infra.domain.user import User


@pytest.fixture
def make_render(records, storyboard_data):
    def make(user_id: str = "reader-1", clip_seconds: int = 15) -> Render:
        storyboard = Storyboard.model_validate(storyboard_data | {"clip_seconds": clip_seconds})
        render = Render(user_id=user_id, spec=resolve_spec(storyboard))
        records.create_render(render)
        return render

    return make


def test_a_render_is_stored_whole(records, make_render):
    render = make_render()
    stored = records.get_render(render.id)
    assert stored.spec == render.spec
    assert (stored.state, stored.progress, stored.attempts) == ("queued", 0.0, 0)


def test_only_one_attempt_starts_a_queued_render(records, make_render):
    render = make_render()
    assert records.mark_running(render.id, attempt=1, runner="first")
    assert not records.mark_running(render.id, attempt=1, runner="again")  # a second delivery of the same attempt
    assert records.mark_running(render.id, attempt=2, runner="second")  # a retry takes over a dead attempt
    stored = records.get_render(render.id)
    assert (stored.attempts, stored.runner) == (2, "second")
    assert not records.mark_running(render.id, attempt=1, runner="first")  # an old attempt cannot come back


def test_an_attempt_taken_over_can_write_nothing(records, make_render):
    render = make_render()
    records.mark_running(render.id, 1, "first")
    assert records.report_progress(render.id, "first", "denoising", 0.3)
    records.mark_running(render.id, 2, "second")
    assert not records.report_progress(render.id, "first", "denoising", 0.9)
    assert not records.mark_succeeded(render.id, "first", {"video": "renders/x/first/clip.mp4"}, {})
    assert not records.mark_failed(render.id, "attempt 1 failed", runner="first")
    assert not records.requeue(render.id, note="attempt 1 failed", runner="first")
    stored = records.get_render(render.id)
    assert (stored.state, stored.runner, stored.progress, stored.error) == ("running", "second", 0.0, None)
    assert records.mark_succeeded(render.id, "second", {"video": "renders/x/second/clip.mp4"}, {})
    assert records.get_render(render.id).artifacts == {"video": "renders/x/second/clip.mp4"}


def test_a_runner_may_fail_or_requeue_only_what_it_holds(records, make_render):
    render = make_render()
    assert not records.requeue(render.id, runner="first")  # queued: nobody holds it
    records.mark_running(render.id, 1, "first")
    assert records.requeue(render.id, note="attempt 1 failed", runner="first")
    assert records.get_render(render.id).runner is None
    records.mark_running(render.id, 2, "second")
    assert not records.mark_failed(render.id, "no", runner="first")
    assert records.mark_failed(render.id, "attempt 2 failed", runner="second")
    assert records.get_render(render.id).error == "attempt 2 failed"


def test_progress_only_while_running_and_never_backwards(records, make_render):
    render = make_render()
    assert not records.report_progress(render.id, "r", "denoising", 0.5)
    records.mark_running(render.id, 1, "r")
    started = records.get_render(render.id)
    assert started.progress_at == started.started_at
    assert records.report_progress(render.id, "r", "denoising", 0.5)
    records.report_progress(render.id, "r", "denoising", 0.3)
    stored = records.get_render(render.id)
    assert (stored.stage, stored.progress) == ("denoising", 0.5)
    assert stored.progress_at > stored.started_at


def test_success_only_from_running_and_final(records, make_render):
    render = make_render()
    assert not records.mark_succeeded(render.id, "r", {"video": "k"}, {})
    records.mark_running(render.id, 1, "r")
    assert records.mark_succeeded(render.id, "r", {"video": "renders/x/clip.mp4"}, {"render_s": 1.5})
    assert not records.mark_failed(render.id, "too late")
    assert not records.mark_running(render.id, 2, "s")
    stored = records.get_render(render.id)
    assert (stored.state, stored.progress, stored.error) == ("succeeded", 1.0, None)
    assert stored.artifacts == {"video": "renders/x/clip.mp4"} and stored.timings == {"render_s": 1.5}
    assert stored.finished_at >= stored.started_at


def test_failure_keeps_its_reason_and_is_final(records, make_render):
    render = make_render()
    assert records.mark_failed(render.id, "the model's weights are missing")
    assert not records.mark_running(render.id, 2, "r")
    stored = records.get_render(render.id)
    assert (stored.state, stored.error) == ("failed", "the model's weights are missing")


def test_requeue_puts_a_running_render_back(records, make_render):
    render = make_render()
    assert not records.requeue(render.id)  # not running
    records.mark_running(render.id, 1, "r")
    records.report_progress(render.id, "r", "denoising", 0.4)
    assert records.requeue(render.id, note="attempt 1 failed")
    stored = records.get_render(render.id)
    assert (stored.state, stored.progress, stored.error) == ("queued", 0.0, "attempt 1 failed")


def test_a_users_renders_newest_first_and_counts(records, make_render):
    first, second = make_render("a"), make_render("a")
    make_render("b")
    assert [r.id for r in records.list_renders("a")] == [second.id, first.id]
    assert records.count_renders_since("a", now() - timedelta(hours=1)) == 2
    assert records.count_renders_since("a", now() + timedelta(hours=1)) == 0
    assert records.count_renders("queued") == 3


def test_scene_round_trip_and_dialogue_turns(records):
    scene = Scene(user_id="u", text="Раскольников на мосту", questions=[Question(id="mood", text="Which mood?")])
    records.save_scene(scene)
    scene.answers = {"mood": "gloomy"}
    scene.state = "ready"
    records.save_scene(scene)
    stored = records.get_scene(scene.id)
    assert stored == scene
    records.add_dialogue_turn(scene.id, "user", {"answers": {"mood": "gloomy"}})
    turns = records.dialogue_turns(scene.id)
    assert [(t["role"], t["content"]) for t in turns] == [("user", {"answers": {"mood": "gloomy"}})]
    assert records.get_scene("missing") is None


def test_racing_deliveries_start_a_render_exactly_once(records, make_render):
    import threading

    render = make_render()
    barrier = threading.Barrier(6)
    wins: list[bool] = []

    def deliver():
        barrier.wait()
        wins.append(records.mark_running(render.id, attempt=1, runner=threading.current_thread().name))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 5 + [True]
    assert records.get_render(render.id).state == "running"


def test_recent_render_times_newest_first_with_their_clips_lengths(records, make_render):
    for seconds, clip_seconds in ((3.0, 15), (9.0, 60)):
        render = make_render(clip_seconds=clip_seconds)
        records.mark_running(render.id, 1, "r")
        records.mark_succeeded(render.id, "r", {"video": f"renders/{render.id}/clip.mp4"}, {"render_s": seconds})
    failed = make_render()
    records.mark_failed(failed.id, "no")
    assert records.recent_render_times() == [(9.0, 60), (3.0, 15)]
    assert records.recent_render_times(limit=1) == [(9.0, 60)]


def test_a_reel_makes_no_seconds_of_clip_and_its_time_is_no_clips(records, make_render):
    from infra.domain.reel import Reel, ReelPart

    clip = make_render(clip_seconds=60)
    parts = [ReelPart(scene_id="s1", render_id=clip.id, duration_s=60.0)]
    reel = Render(user_id="reader-1", spec=clip.spec, reel=Reel(book_id="b", title="t", parts=parts))
    records.create_render(reel)
    assert [(e.render_id, e.clip_seconds) for e in records.in_progress()] == [(clip.id, 60), (reel.id, 0)]
    for render, seconds in ((clip, 80.0), (reel, 2.0)):
        records.mark_running(render.id, 1, "r")
        records.mark_succeeded(render.id, "r", {}, {"render_s": seconds})
    assert records.recent_render_times() == [(80.0, 60)]


def test_only_one_delivery_dispatches_and_a_dispatched_render_can_start_or_go_back(records, make_render):
    render = make_render()
    assert records.mark_dispatching(render.id)
    assert not records.mark_dispatching(render.id)  # a second delivery of the same request
    assert records.count_renders("dispatching") == 1
    assert records.requeue(render.id, note="the job could not be started: quota")
    assert records.get_render(render.id).state == "queued"
    assert records.mark_dispatching(render.id)
    assert records.mark_running(render.id, attempt=1, runner="r")
    assert not records.mark_dispatching(render.id)


def test_stale_renders_for_the_sweeper(records, make_render):
    old_queued, old_running = make_render(), make_render()
    records.mark_running(old_running.id, 1, "r")
    cut = now()  # the old ones were created and started before it, the fresh one after
    fresh = make_render()
    assert fresh.created_at > cut
    assert [r.id for r in records.stale_renders("queued", cut)] == [old_queued.id]
    assert [r.id for r in records.stale_renders("running", cut)] == [old_running.id]
    assert records.stale_renders("queued", cut - timedelta(hours=1)) == []
    assert len(records.stale_renders("queued", now() + timedelta(seconds=1))) == 2


def test_a_dispatching_render_is_stale_by_when_it_was_dispatched_not_made(records, make_render):
    """A render that waited long in the queue, then was dispatched a moment ago, has its job
    starting: the sweeper must not dispatch it again (a second GPU job for one render)."""
    long_dispatched, just_dispatched = make_render(), make_render()
    assert records.mark_dispatching(long_dispatched.id)
    cut = now()  # both were made before it; one was dispatched before it, the other after
    assert records.mark_dispatching(just_dispatched.id)
    dispatched_at = records.get_render(long_dispatched.id).dispatched_at
    assert dispatched_at is not None and dispatched_at < cut < records.get_render(just_dispatched.id).dispatched_at
    assert [r.id for r in records.stale_renders("dispatching", cut)] == [long_dispatched.id]
    assert records.stale_renders("queued", cut) == []


def test_only_a_render_still_waiting_fails_unstarted(records, make_render):
    waiting, started, done = make_render(), make_render(), make_render()
    assert records.mark_dispatching(started.id) and records.mark_running(started.id, 1, "job")
    assert records.mark_dispatching(done.id)
    assert records.fail_unstarted(waiting.id, "the render could not be started")
    failed = records.get_render(waiting.id)
    assert (failed.state, failed.error) == ("failed", "the render could not be started") and failed.finished_at
    assert not records.fail_unstarted(waiting.id, "again")  # already failed: unchanged
    assert records.get_render(waiting.id).error == "the render could not be started"
    assert not records.fail_unstarted(started.id, "x") and records.get_render(started.id).state == "running"
    assert not records.fail_unstarted(done.id, "x") and records.get_render(done.id).state == "dispatching"
    # Its first attempt stopped and put it back for the job's retry: queued, but started once.
    assert records.requeue(started.id, runner="job") and records.get_render(started.id).state == "queued"
    assert not records.fail_unstarted(started.id, "x") and records.get_render(started.id).state == "queued"


def test_reachable_records_are_ready(records):
    records.check()  # raises when they are not


def test_a_user_is_stored_and_signing_in_again_keeps_an_admins_block(records):
    assert records.get_user("local:ann@example.com") is None
    records.ensure_user("anon-" + "a" * 32)
    bare = records.get_user("anon-" + "a" * 32)
    assert bare is not None and (bare.account, bare.email, bare.publishing_blocked) == (False, None, False)
    ann = User(id="local:ann@example.com", account=True, email="ann@example.com", name="Ann")
    records.save_user(ann)
    assert records.get_user(ann.id) == ann
    blocked = records.set_publishing_blocked(ann.id, True)
    assert blocked.publishing_blocked and blocked.email == "ann@example.com"
    later = User(id=ann.id, account=True, email="ann@example.com", name="Ann K.", created_at=now())
    records.save_user(later)  # she signs in again with a new name: still blocked, still created then
    stored = records.get_user(ann.id)
    assert stored == ann.model_copy(update={"name": "Ann K.", "publishing_blocked": True})
    assert [u.id for u in records.users_blocked_from_publishing()] == [ann.id]
    records.ensure_user(ann.id)  # a render of hers changes nothing of who she is
    assert records.get_user(ann.id) == stored
    assert not records.set_publishing_blocked(ann.id, False).publishing_blocked
    assert records.users_blocked_from_publishing() == []
    never_seen = records.set_publishing_blocked("google:123", True)
    assert (never_seen.id, never_seen.publishing_blocked, never_seen.account) == ("google:123", True, False)


def test_plans_are_stored_whole_and_replaced_by_name(records):
    assert records.plans() == [] and records.get_plan("studio") is None
    studio = Plan(name="studio", clip_seconds=(15, 30, 60), daily_renders=50)
    reader = Plan(name="reader", clip_seconds=(15, 30), daily_renders=10)
    records.save_plan(studio)
    records.save_plan(reader)
    assert records.get_plan("studio") == studio
    assert records.plans() == [reader, studio]  # by name
    cheaper = Plan(name="studio", clip_seconds=(15, 30), daily_renders=40)
    records.save_plan(cheaper)
    assert records.get_plan("studio") == cheaper and records.plans() == [reader, cheaper]


def test_an_account_s_plan_is_an_admin_s_and_signing_in_keeps_it(records):
    ann = User(id="google:ann", account=True, email="ann@example.com", name="Ann")
    assert records.set_plan(ann.id, "studio") is None  # no such user: nothing is made
    assert records.get_user(ann.id) is None
    records.save_user(ann)
    assert records.get_user(ann.id) == ann and ann.plan is None
    on_plan = records.set_plan(ann.id, "studio")
    assert on_plan is not None and (on_plan.plan, on_plan.email) == ("studio", "ann@example.com")
    records.save_user(ann.model_copy(update={"name": "Ann K."}))  # she signs in again: still on it
    stored = records.get_user(ann.id)
    assert stored is not None and (stored.plan, stored.name) == ("studio", "Ann K.")
    records.ensure_user("google:bob")
    records.set_plan("google:bob", "reader")
    assert [(u.id, u.plan) for u in records.users_on_plans()] == [("google:ann", "studio"), ("google:bob", "reader")]
    back = records.set_plan(ann.id, None)
    assert back is not None and back.plan is None
    assert [u.id for u in records.users_on_plans()] == ["google:bob"]


def test_a_chat_remembers_a_persons_language_and_scene_and_signing_in_keeps_them(records):
    records.set_chat("telegram:42", language="ru")  # never seen before: a record is made
    stored = records.get_user("telegram:42")
    assert stored is not None and (stored.language, stored.chat_scene) == ("ru", None)
    records.set_chat("telegram:42", scene="scene-1")  # the language stays
    records.save_user(User(id="telegram:42", account=True, name="Ann"))  # who she is changes, not the chat
    stored = records.get_user("telegram:42")
    assert stored is not None and (stored.language, stored.chat_scene, stored.name) == ("ru", "scene-1", "Ann")
    records.set_chat("telegram:42", language="en", scene="scene-2")
    stored = records.get_user("telegram:42")
    assert stored is not None and (stored.language, stored.chat_scene) == ("en", "scene-2")


def test_an_anonymous_persons_work_moves_to_their_account(records, make_render):
    anonymous, account, other = "anon-" + "b" * 32, "google:4242", "anon-" + "c" * 32
    scene = Scene(user_id=anonymous, text="The bridge at dusk.")
    records.save_scene(scene)
    theirs = [make_render(anonymous), make_render(anonymous)]
    someone_elses = make_render(other)
    assert records.transfer_work(anonymous, account) == 3
    moved_scene = records.get_scene(scene.id)
    assert moved_scene is not None and moved_scene.user_id == account
    assert {r.id for r in records.list_renders(account)} == {r.id for r in theirs}
    assert records.list_renders(anonymous) == []
    assert [r.id for r in records.list_renders(other)] == [someone_elses.id]
    assert records.count_renders_since(account, now() - timedelta(hours=1)) == 2
    assert records.transfer_work(anonymous, account) == 0


def test_the_quota_a_render_took_and_the_preset_asked_for_are_stored(records, storyboard_data):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data), "draft")
    render = Render(user_id="a", spec=spec, quota=["renders:2031-05-04:user:a"], requested_preset="high")
    records.create_render(render)
    stored = records.get_render(render.id)
    assert (stored.quota, stored.requested_preset, stored.spec.preset) == (
        ["renders:2031-05-04:user:a"],
        "high",
        "draft",
    )
    assert records.get_render(make_plain(records, storyboard_data).id).quota == []


def make_plain(records, storyboard_data) -> Render:
    render = Render(user_id="b", spec=resolve_spec(Storyboard.model_validate(storyboard_data)))
    records.create_render(render)
    return render


@pytest.mark.parametrize("state", ["queued", "dispatching", "running"])
def test_an_unfinished_render_can_be_cancelled_once(records, make_render, state):
    render = make_render()
    if state == "dispatching":
        records.mark_dispatching(render.id)
    if state == "running":
        records.mark_running(render.id, 1, "r")
    assert records.cancel(render.id) == state  # the state it was cancelled from
    assert records.cancel(render.id) is None  # already cancelled: nothing changes
    stored = records.get_render(render.id)
    assert (stored.state, stored.stage) == ("cancelled", None) and stored.finished_at is not None
    # An attempt that was running can write nothing more, and nothing starts it again.
    assert not records.report_progress(render.id, "r", "denoising", 0.5)
    assert not records.mark_succeeded(render.id, "r", {"video": "renders/x/r/clip.mp4"}, {})
    assert not records.mark_failed(render.id, "late", runner="r") and not records.mark_failed(render.id, "late")
    assert not records.requeue(render.id) and not records.mark_dispatching(render.id)
    assert not records.mark_running(render.id, 2, "s")
    assert records.get_render(render.id).state == "cancelled"


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_a_finished_render_cannot_be_cancelled(records, make_render, outcome):
    render = make_render()
    records.mark_running(render.id, 1, "r")
    if outcome == "succeeded":
        records.mark_succeeded(render.id, "r", {"video": "renders/x/r/clip.mp4"}, {"render_s": 3.0})
    else:
        records.mark_failed(render.id, "no", runner="r")
    assert records.cancel(render.id) is None
    assert records.get_render(render.id).state == outcome


def test_the_renders_in_progress_oldest_first_and_in_flight_per_person(records, make_render):
    done, first, second, third = (make_render("a") for _ in range(4))
    other = make_render("b", clip_seconds=30)
    records.mark_running(done.id, 1, "r")
    records.mark_succeeded(done.id, "r", {}, {"render_s": 1.0})
    records.mark_dispatching(first.id)
    records.mark_running(second.id, 1, "r")
    cancelled = make_render("b")
    records.cancel(cancelled.id)
    entries = records.in_progress()
    assert [(e.render_id, e.user_id, e.state) for e in entries] == [
        (first.id, "a", "dispatching"),
        (second.id, "a", "running"),
        (third.id, "a", "queued"),
        (other.id, "b", "queued"),
    ]
    assert entries[1].started_at is not None and entries[2].started_at is None
    assert [e.clip_seconds for e in entries] == [15, 15, 15, 30]
    assert [e.created_at for e in entries] == sorted(e.created_at for e in entries)
    assert (records.count_in_flight("a"), records.count_in_flight("b")) == (2, 0)
    assert len(records.in_progress(limit=2)) == 2
