"""The durable render queue in SQLite: atomic claims, redelivery, recovery."""

import threading

from infra.bootstrap import bootstrap
from infra.queue.sqlite import SqliteRenderQueue


def test_oldest_request_is_claimed_first_and_only_once(adapters, make_render):
    first, second = make_render(), make_render()
    queue = adapters.queue
    queue.submit(first.id)
    queue.submit(second.id)
    queue.submit(first.id)  # submitting twice is one request
    assert queue.depth() == 2
    delivery = queue.claim()
    assert (delivery.render_id, delivery.attempt) == (first.id, 1)
    assert queue.claim().render_id == second.id
    assert queue.claim() is None


def test_a_released_request_is_delivered_again_as_the_next_attempt(adapters, make_render):
    render = make_render()
    adapters.queue.submit(render.id)
    adapters.queue.release(adapters.queue.claim().render_id)
    again = adapters.queue.claim()
    assert (again.render_id, again.attempt) == (render.id, 2)
    adapters.queue.acknowledge(render.id)
    assert adapters.queue.depth() == 0 and adapters.queue.claim() is None


def test_concurrent_claims_never_share_a_request(settings, make_render, adapters):
    ids = [make_render().id for _ in range(30)]
    for render_id in ids:
        adapters.queue.submit(render_id)
    claimed: list[str] = []

    def claim_all():
        queue = bootstrap(settings).queue  # its own connections, as another worker would have
        assert isinstance(queue, SqliteRenderQueue)
        while delivery := queue.claim():
            claimed.append(delivery.render_id)

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids)


def test_recover_finds_what_a_dead_worker_held_and_which_job_ran_it(adapters, make_render):
    render, waiting = make_render(), make_render()
    adapters.queue.submit(render.id)
    adapters.queue.submit(waiting.id)
    adapters.queue.claim()
    adapters.queue.mark_claimed_by(render.id, 4242)
    [delivery] = adapters.queue.recover()
    assert (delivery.render_id, delivery.attempt, delivery.claimed_by) == (render.id, 1, 4242)
    assert adapters.queue.claim().render_id == waiting.id  # still claimed until settled
    adapters.queue.release(render.id)
    again = adapters.queue.claim()
    assert (again.render_id, again.attempt, again.claimed_by) == (render.id, 2, None)


def test_one_persons_many_requests_hold_nobody_else_back(adapters, make_render):
    """Round-robin across people: everyone's first request before anyone's second."""
    a1, a2, a3 = (make_render("a") for _ in range(3))
    b1, b2 = make_render("b"), make_render("b")
    c1 = make_render("c")
    for render in (a1, a2, a3, b1, b2, c1):
        adapters.queue.submit(render.id)
    claimed = [adapters.queue.claim().render_id for _ in range(6)]
    assert claimed == [a1.id, b1.id, c1.id, a2.id, b2.id, a3.id]


def test_a_request_being_made_counts_as_its_owners_turn(adapters, make_render):
    a1, a2 = make_render("a"), make_render("a")
    adapters.queue.submit(a1.id)
    adapters.queue.submit(a2.id)
    assert adapters.queue.claim().render_id == a1.id  # a1 is being made (claimed, unacknowledged)
    b1 = make_render("b")
    adapters.queue.submit(b1.id)  # later than a2, and still first: a's turn 0 is taken
    assert adapters.queue.claim().render_id == b1.id
    assert adapters.queue.claim().render_id == a2.id


def test_the_claim_order_is_the_domains_round_robin(adapters, make_render):
    from infra.domain.queueing import turns

    owners = ["a", "a", "a", "a", "b", "a", "c", "b", "c", "d"]
    renders = [make_render(owner) for owner in owners]
    for render in renders:
        adapters.queue.submit(render.id)
    first = adapters.queue.claim().render_id
    adapters.records.mark_running(first, 1, "r")
    expected = [entry.render_id for entry in turns(adapters.records.in_progress())]
    claimed = []
    while delivery := adapters.queue.claim():
        claimed.append(delivery.render_id)
    assert claimed == expected and len(claimed) == 9


def test_a_withdrawn_request_is_not_delivered_but_one_being_made_stays(adapters, make_render):
    made, waiting = make_render(), make_render()
    adapters.queue.submit(made.id)
    adapters.queue.submit(waiting.id)
    adapters.queue.claim()
    adapters.queue.withdraw(made.id)  # being made: it ends on its own
    adapters.queue.withdraw(waiting.id)
    assert adapters.queue.depth() == 1 and adapters.queue.claim() is None
