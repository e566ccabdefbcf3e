"""Every API route driven in random orders and states by a Hypothesis state machine: two
people with accounts (the second an admin) and an anonymous one, their scenes and renders
in every state (queued, running, succeeded, failed, cancelled, published, unpublished, held,
hidden, appealed, deleted), with valid and hostile bodies. No answer is a 5xx.

A render's job is played by a rule that moves it the way the render job would, through
the records, so the states come without rendering anything."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test

from frontend_service import create_app
from infra.bootstrap import bootstrap
from infra.settings import Settings
from tests.conftest import ADMIN_EMAIL, EXAMPLE_STORYBOARD, ApiClient, signed_in

pytestmark = pytest.mark.slow

STORYBOARD = json.loads(EXAMPLE_STORYBOARD.read_text())
# JSON of any shape, small: what a confused or hostile script might send.
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
TEXT = st.text(max_size=60) | st.sampled_from(["A lighthouse in a storm.", "Раскольников на мосту", "\u200b", ""])
IDS = st.sampled_from([(0, "missing"), (1, "0" * 32), (0, "..%2Fetc%2Fpasswd")])
ROUTES_DRIVEN: set[tuple[str, str]] = set()
RATE_LIMITS = ("DIALOGUE_RATE_LIMIT", "RENDER_RATE_LIMIT", "VOTE_RATE_LIMIT", "REPORT_RATE_LIMIT")


def storyboards() -> st.SearchStrategy:
    """Valid storyboards with changes, some of which break the contract."""
    return st.builds(
        lambda title, seed, shift, drop: (
            STORYBOARD
            | {"title": title, "seed": seed, "shots": STORYBOARD["shots"][: 3 - drop]}
            | ({"shots": [dict(STORYBOARD["shots"][0], start_s=shift)]} if shift else {})
        ),
        title=TEXT,
        seed=st.integers(-1, 2**33) | st.sampled_from(["12", True]),
        shift=st.sampled_from([0, 0, 0.5, 14, 14.5, -1]),
        drop=st.integers(0, 3),
    )


class ApiMachine(RuleBasedStateMachine):
    scenes = Bundle("scenes")
    renders = Bundle("renders")

    def __init__(self):
        super().__init__()
        self._folder = tempfile.TemporaryDirectory()
        settings = Settings(
            data_dir=Path(self._folder.name),
            daily_render_quota=1000,
            anonymous_daily_render_quota=1000,
            admin_emails=[ADMIN_EMAIL],
        )
        adapters = bootstrap(settings)
        self.adapters = adapters
        self.app = create_app(
            {
                "TESTING": True,
                "START_WORKER": False,
                # Limits are tested elsewhere; here they would only stop the walk. (Turning the
                # limiter off instead would turn it off for every later app: it is one object.)
                **{name: "100000 per minute" for name in RATE_LIMITS},
            },
            adapters,
        )
        # 0 and 1 act on each other's work; 1 is an admin; 2 never signs in.
        self.people = [
            signed_in(self.app, "sonya@example.com"),
            signed_in(self.app, ADMIN_EMAIL),
            ApiClient(self.app.test_client()),
        ]
        self.accounts = ["local:sonya@example.com", f"local:{ADMIN_EMAIL}"]
        self.statuses: list[tuple[str, str, int]] = []

    def teardown(self):
        self._folder.cleanup()

    def call(self, person: int, method: str, path: str, **kwargs):
        response = getattr(self.people[person], method)(path, **kwargs)
        self.statuses.append((method.upper(), path, response.status_code))
        rule, _ = self.app.url_map.bind("localhost").match(path, method=method.upper(), return_rule=True)
        ROUTES_DRIVEN.add((method.upper(), rule.rule))
        response.close()
        return response

    people_ = st.integers(0, 1)
    # Who acts on a scene or render: mostly its owner, sometimes the other person.
    as_owner = st.sampled_from([True, True, True, False])

    def who(self, item: tuple[int, str], owner: bool) -> tuple[int, str]:
        person, item_id = item
        return (person if owner else 1 - person), item_id

    @rule(target=scenes, person=people_, text=TEXT, book=st.none() | TEXT)
    def create_scene(self, person, text, book):
        response = self.call(person, "post", "/api/scenes", json={"text": text, "book": book})
        return person, response.get_json().get("id", "missing") if response.status_code == 201 else "missing"

    @rule(target=scenes, person=people_)
    def create_a_scene_ready_to_render(self, person):
        response = self.call(person, "post", "/api/scenes", json={"text": "A lighthouse in a storm at night."})
        scene = response.get_json()["id"]
        self.call(person, "post", f"/api/scenes/{scene}/finish")
        return person, scene

    @rule(person=people_, body=ANY_JSON)
    def create_scene_from_anything(self, person, body):
        self.call(person, "post", "/api/scenes", json=body)

    @rule(scene=st.one_of(scenes, scenes, scenes, IDS), owner=as_owner)
    def get_scene(self, scene, owner):
        person, scene = self.who(scene, owner)
        self.call(person, "get", f"/api/scenes/{scene}")

    @rule(scene=st.one_of(scenes, scenes, scenes, IDS), owner=as_owner, answer=TEXT, body=st.none() | ANY_JSON)
    def answer(self, scene, owner, answer, body):
        person, scene = self.who(scene, owner)
        questions = ["action", "who", "place", "time", "mood"]
        payload = body if body is not None else {"answers": dict.fromkeys(questions[:2], answer)}
        self.call(person, "post", f"/api/scenes/{scene}/answers", json=payload)

    @rule(scene=st.one_of(scenes, scenes, scenes, IDS), owner=as_owner)
    def finish(self, scene, owner):
        person, scene = self.who(scene, owner)
        self.call(person, "post", f"/api/scenes/{scene}/finish")

    @rule(scene=st.one_of(scenes, scenes, scenes, IDS), owner=as_owner, storyboard=storyboards() | ANY_JSON)
    def save_storyboard(self, scene, owner, storyboard):
        person, scene = self.who(scene, owner)
        self.call(person, "put", f"/api/scenes/{scene}/storyboard", json=storyboard)

    @rule(
        target=renders,
        scene=st.one_of(scenes, scenes, scenes, IDS),
        owner=as_owner,
        preset=st.sampled_from(["draft", "draft", "high", "ultra", 3]),
    )
    def start_render(self, scene, owner, preset):
        person, scene = self.who(scene, owner)
        response = self.call(person, "post", f"/api/scenes/{scene}/renders", json={"preset": preset})
        return person, response.get_json()["render_id"] if response.status_code == 202 else "missing"

    @rule(
        target=renders,
        person=people_,
        state=st.sampled_from(["queued", "running", "succeeded", "failed", "published", "unpublished"]),
    )
    def a_clip_in_a_state(self, person, state):
        """A render of a new scene, taken to a state as the render job and its owner would."""
        scene = self.call(person, "post", "/api/scenes", json={"text": "A ship leaves the harbour at dawn."})
        scene_id = scene.get_json()["id"]
        self.call(person, "post", f"/api/scenes/{scene_id}/finish")
        started = self.call(person, "post", f"/api/scenes/{scene_id}/renders", json={"preset": "draft"})
        render = started.get_json()["render_id"]
        if state != "queued":
            self.the_job_moves_it((person, render), "failed" if state == "failed" else "running")
        if state in ("succeeded", "published", "unpublished"):
            self.the_job_moves_it((person, render), "succeeded")
        if state in ("published", "unpublished"):
            self.call(person, "post", f"/api/renders/{render}/publish", json={"display_name": "Sonya"})
        if state == "unpublished":
            self.call(person, "delete", f"/api/renders/{render}/publish")
        return person, render

    @rule(render=renders, outcome=st.sampled_from(["running", "succeeded", "failed"]))
    def the_job_moves_it(self, render, outcome):
        """What the render job would do, through the records."""
        _, render = render
        records = self.adapters.records
        stored = records.get_render(render)
        if stored is None or stored.state in ("succeeded", "failed", "cancelled"):
            return
        if stored.state != "running":
            records.mark_running(render, stored.attempts + 1, f"runner-{render}")
        if outcome == "succeeded":
            key = f"renders/{render}/runner/clip.mp4"
            source = Path(self._folder.name) / f"{render}.mp4"
            source.write_bytes(b"\x00" * 64)
            self.adapters.storage.put_file(key, source, "video/mp4")
            records.mark_succeeded(render, f"runner-{render}", {"video": key}, {"render_s": 1.0})
        elif outcome == "failed":
            records.mark_failed(render, "the renderer stopped")

    @rule(render=st.one_of(renders, renders, renders, IDS), owner=as_owner)
    def get_render(self, render, owner):
        person, render = self.who(render, owner)
        self.call(person, "get", f"/api/renders/{render}")

    @rule(person=people_)
    def list_renders(self, person):
        self.call(person, "get", "/api/renders")

    @rule(render=st.one_of(renders, renders, renders, IDS), owner=as_owner)
    def cancel_render(self, render, owner):
        person, render = self.who(render, owner)
        self.call(person, "post", f"/api/renders/{render}/cancel")

    @rule(render=consumes(renders), owner=as_owner)
    def delete_render(self, render, owner):
        person, render = self.who(render, owner)
        self.call(person, "delete", f"/api/renders/{render}")

    @rule(
        render=st.one_of(renders, renders, renders, IDS),
        owner=as_owner,
        body=st.just({}) | st.just({"display_name": "Sonya"}) | ANY_JSON,
    )
    def publish(self, render, owner, body):
        person, render = self.who(render, owner)
        self.call(person, "post", f"/api/renders/{render}/publish", json=body)

    @rule(render=st.one_of(renders, renders, renders, IDS), owner=as_owner)
    def unpublish(self, render, owner):
        person, render = self.who(render, owner)
        self.call(person, "delete", f"/api/renders/{render}/publish")

    @rule(person=people_, query=st.dictionaries(st.sampled_from(["sort", "book", "page", "show", "x"]), TEXT))
    def gallery(self, person, query):
        self.call(person, "get", "/api/gallery", query_string=query)

    @rule(
        render=st.one_of(renders, renders, renders, IDS),
        owner=st.booleans(),
        value=st.sampled_from([1, -1, 0, 2, "1", True]) | ANY_JSON,
    )
    def vote(self, render, owner, value):
        person, render = self.who(render, owner)
        self.call(person, "put", f"/api/renders/{render}/vote", json={"value": value})

    @rule(render=st.one_of(renders, renders, renders, IDS), owner=st.booleans())
    def remix(self, render, owner):
        person, render = self.who(render, owner)
        self.call(person, "post", f"/api/renders/{render}/remix")

    @rule(
        render=st.one_of(renders, renders, renders, IDS),
        owner=st.booleans(),
        body=st.none() | st.just({"reason": "unlawful"}) | ANY_JSON,
    )
    def report(self, render, owner, body):
        person, render = self.who(render, owner)
        self.call(person, "post", f"/api/renders/{render}/report", json=body)

    @rule(render=st.one_of(renders, renders, renders, IDS), owner=as_owner, body=st.just({"note": "mine"}) | ANY_JSON)
    def appeal(self, render, owner, body):
        person, render = self.who(render, owner)
        self.call(person, "post", f"/api/renders/{render}/appeal", json=body)

    @rule(
        render=st.one_of(renders, renders, renders, IDS),
        method=st.sampled_from(["get", "post", "delete"]),
        action=st.sampled_from(["clear", "hide"]),
    )
    def anonymous_tries(self, render, method, action):
        """The one who never signed in: votes, reports, publishing and moderation are refused."""
        _, render = render
        if method == "get":
            self.call(2, "get", "/api/moderation")
        elif method == "post":
            self.call(2, "put", f"/api/renders/{render}/vote", json={"value": 1})
            self.call(2, "post", f"/api/renders/{render}/report")
            self.call(2, "post", f"/api/moderation/{render}/{action}")
        else:
            self.call(2, "post", f"/api/renders/{render}/publish", json={})

    @rule(person=people_)
    def review_queue(self, person):
        self.call(person, "get", "/api/moderation")

    @rule(
        person=people_,
        render=st.one_of(renders, renders, renders, IDS),
        action=st.sampled_from(["clear", "hide", "delete"]),
    )
    def moderate(self, person, render, action):
        _, render = render
        if action == "delete":
            self.call(person, "delete", f"/api/moderation/{render}")
        else:
            self.call(person, "post", f"/api/moderation/{render}/{action}")

    @rule(
        person=people_,
        account=st.sampled_from([0, 1, "anon-" + "0" * 32, "google:missing", "..%2F"]),
        method=st.sampled_from(["put", "delete"]),
    )
    def block_publishing(self, person, account, method):
        user_id = self.accounts[account] if isinstance(account, int) else account
        self.call(person, method, f"/api/moderation/accounts/{user_id}/publishing-block")

    @rule(
        person=st.integers(0, 2),
        name=st.sampled_from(["studio", "free", "Bad Name", "..%2F"]),
        body=st.fixed_dictionaries(
            {"clip_seconds": st.lists(st.sampled_from([15, 30, 60, 45]), max_size=4), "daily_renders": st.integers()}
        )
        | ANY_JSON,
    )
    def store_plan(self, person, name, body):
        self.call(person, "put", f"/api/plans/{name}", json=body)

    @rule(
        person=st.integers(0, 2),
        account=st.sampled_from([0, 1, "anon-" + "0" * 32, "google:missing", "..%2F"]),
        body=st.fixed_dictionaries({"plan": st.sampled_from(["studio", "free", None, "gold", ""])}) | ANY_JSON,
    )
    def put_on_a_plan(self, person, account, body):
        user_id = self.accounts[account] if isinstance(account, int) else account
        self.call(person, "put", f"/api/plans/accounts/{user_id}", json=body)

    @rule(person=st.integers(0, 2))
    def plans(self, person):
        self.call(person, "get", "/api/plans")

    @rule(person=people_, body=st.fixed_dictionaries({"texts": st.lists(TEXT, max_size=3)}) | ANY_JSON)
    def prompt_tokens(self, person, body):
        self.call(person, "post", "/api/prompt-tokens", json=body)

    @rule(person=st.integers(0, 2), path=st.sampled_from(["/api/session", "/api/openapi.json"]))
    def documents(self, person, path):
        self.call(person, "get", path)

    @invariant()
    def no_server_error(self):
        errors = [status for status in self.statuses if status[2] >= 500]
        assert errors == [], errors


def test_no_order_of_calls_makes_a_server_error_and_every_route_is_driven():
    ROUTES_DRIVEN.clear()
    run_state_machine_as_test(
        ApiMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # A route added to the API without a rule here fails this.
    app = create_app({"TESTING": True, "START_WORKER": False}, bootstrap(Settings(data_dir=Path(tempfile.mkdtemp()))))
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes == ROUTES_DRIVEN
