"""Fair turns and waiting estimates (infra.domain.queueing), worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infra.domain.queueing import QueueEntry, Standing, standing, turns, typical_seconds, wait_for_new

T0 = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)


def entry(
    render_id: str,
    user: str,
    minute: int,
    state: str = "queued",
    started_s: float | None = None,
    clip_seconds: int = 15,
) -> QueueEntry:
    started = T0 - timedelta(seconds=started_s) if started_s is not None else None
    created = T0 - timedelta(minutes=60 - minute)
    return QueueEntry(render_id, user, state, created, started, clip_seconds)  # type: ignore[arg-type]


def test_turns_go_round_the_people_oldest_first_within_a_turn():
    queue = [
        entry("a1", "a", 1),
        entry("a2", "a", 2),
        entry("a3", "a", 3),
        entry("b1", "b", 4),
        entry("c1", "c", 5),
        entry("b2", "b", 6),
    ]
    assert [e.render_id for e in turns(queue)] == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_a_render_in_progress_takes_its_owners_first_turn():
    queue = [entry("a1", "a", 1, "running", 30), entry("a2", "a", 2), entry("b1", "b", 3)]
    assert [e.render_id for e in turns(queue)] == ["b1", "a2"]


def test_typical_time_is_the_median_of_what_was_measured():
    assert typical_seconds([]) is None
    assert typical_seconds([(30.0, 15), (10.0, 15), (20.0, 15)]) == 20.0
    assert typical_seconds([(10.0, 15), (20.0, 15), (30.0, 15), (100.0, 15)]) == 25.0


def test_a_longer_clips_time_counts_as_a_fifteen_second_clips():
    # 40 s for 30 s of clip and 80 s for 60 s are both 20 s a 15-second clip; with 12 s: median 20.
    assert typical_seconds([(40.0, 30), (80.0, 60), (12.0, 15)]) == 20.0


def test_a_longer_clip_takes_its_length_in_typical_times():
    # Typical 15-second clip: 20 s. a1, a 60-second clip, started 10 s ago: 80 s, so 70 s left.
    # Then b1, 30 seconds of clip: 40 s, from 70 to 110; then c1, 15 seconds: 110 to 130.
    queue = [
        entry("a1", "a", 1, "running", 10, clip_seconds=60),
        entry("b1", "b", 2, clip_seconds=30),
        entry("c1", "c", 3),
    ]
    assert standing(queue, "b1", 20.0, 1, T0) == Standing(0, T0 + timedelta(seconds=70), T0 + timedelta(seconds=110))
    assert standing(queue, "c1", 20.0, 1, T0) == Standing(1, T0 + timedelta(seconds=110), T0 + timedelta(seconds=130))
    assert standing(queue, "a1", 20.0, 1, T0) == Standing(0, T0 - timedelta(seconds=10), T0 + timedelta(seconds=70))
    # A 30-second clip whose job is still starting is due 40 s from now.
    dispatching = [entry("d", "d", 1, "dispatching", clip_seconds=30)]
    assert standing(dispatching, "d", 20.0, 1, T0) == Standing(0, T0, T0 + timedelta(seconds=40))


def test_one_at_a_time_each_render_ahead_adds_a_typical_render():
    # a1 started 5 s ago: due in 15 s with a typical 20 s; then b1 (turn 0), then a2.
    queue = [entry("a1", "a", 1, "running", 5), entry("a2", "a", 2), entry("b1", "b", 3)]
    b1 = standing(queue, "b1", 20.0, 1, T0)
    a2 = standing(queue, "a2", 20.0, 1, T0)
    assert b1 is not None and a2 is not None
    assert (b1.position, b1.start, b1.finish) == (0, T0 + timedelta(seconds=15), T0 + timedelta(seconds=35))
    assert (a2.position, a2.start, a2.finish) == (1, T0 + timedelta(seconds=35), T0 + timedelta(seconds=55))


def test_with_several_slots_a_render_takes_the_first_free_one():
    # Two slots: running renders due in 5 s and 15 s; the third waiting render starts when
    # the first two waiting have taken those slots and the earlier of them ends: 5 + 10.
    queue = [
        entry("x", "x", 1, "running", 5),
        entry("y", "y", 2, "running", -5),  # started "5 s in the future": due in 15 s of 10
        entry("p", "p", 3),
        entry("q", "q", 4),
        entry("r", "r", 5),
    ]
    r = standing(queue, "r", 10.0, 2, T0)
    assert r is not None and (r.position, r.start) == (2, T0 + timedelta(seconds=15))


def test_a_running_render_is_due_a_typical_time_after_it_started_and_not_before_now():
    queue = [entry("a1", "a", 1, "running", 50)]
    late = standing(queue, "a1", 20.0, 1, T0)
    assert late is not None and (late.position, late.start, late.finish) == (0, T0 - timedelta(seconds=50), T0)


def test_more_in_progress_than_slots_waits_for_enough_to_finish():
    # The cap went down to 1 with three running (due in 2, 4, 6 s): the next starts at 6 s.
    queue = [entry(f"r{i}", f"u{i}", i, "running", 10 - 2 * i) for i in range(1, 4)] + [entry("w", "w", 9)]
    w = standing(queue, "w", 10.0, 1, T0)
    assert w is not None and w.start == T0 + timedelta(seconds=6)


def test_nothing_measured_gives_a_position_and_no_times():
    queue = [entry("a1", "a", 1), entry("b1", "b", 2)]
    b1 = standing(queue, "b1", None, 1, T0)
    assert b1 is not None and (b1.position, b1.start, b1.finish) == (1, None, None)
    assert standing(queue, "missing", 10.0, 1, T0) is None
    assert wait_for_new(queue, "c", None, 1, T0) is None


def test_a_new_render_waits_behind_everyone_elses_turn():
    queue = [entry("a1", "a", 1, "running", 0), entry("a2", "a", 2), entry("b1", "b", 3)]
    # A new render of c: turn 0, after b1 (older, turn 0): a1's 20 s, then b1's 20 s.
    assert wait_for_new(queue, "c", 20.0, 1, T0) == 40.0
    # A new render of a: turn 2, after b1 and a2.
    assert wait_for_new(queue, "a", 20.0, 1, T0) == 60.0


def test_a_dispatching_render_is_in_progress_from_now_for_a_typical_render():
    # Its job is starting: no start time yet, so it is due a whole typical render from now.
    queue = [entry("d", "d", 1, "dispatching"), entry("w", "w", 2)]
    assert standing(queue, "d", 20.0, 1, T0) == Standing(0, T0, T0 + timedelta(seconds=20))
    assert standing(queue, "w", 20.0, 1, T0) == Standing(0, T0 + timedelta(seconds=20), T0 + timedelta(seconds=40))


def test_nothing_measured_a_render_in_progress_has_its_start_and_no_finish():
    queue = [entry("r", "r", 1, "running", 30), entry("d", "d", 2, "dispatching")]
    assert standing(queue, "r", None, 1, T0) == Standing(0, T0 - timedelta(seconds=30), None)
    assert standing(queue, "d", None, 1, T0) == Standing(0, T0, None)


def test_no_slots_at_all_is_one_slot():
    # A cap of 0 (or less) would leave no render ever starting: it counts as one at a time.
    queue = [entry("r", "r", 1, "running", 5), entry("w", "w", 2)]
    for parallel in (0, -1):
        w = standing(queue, "w", 20.0, parallel, T0)
        assert w is not None and w.start == T0 + timedelta(seconds=15)


def test_with_a_slot_free_the_next_render_starts_now():
    assert standing([entry("w", "w", 1)], "w", 20.0, 1, T0) == Standing(0, T0, T0 + timedelta(seconds=20))
    queue = [entry("r", "r", 1, "running", 5), entry("w", "w", 2)]
    assert standing(queue, "w", 20.0, 2, T0) == Standing(0, T0, T0 + timedelta(seconds=20))
