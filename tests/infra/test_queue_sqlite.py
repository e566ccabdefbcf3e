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
