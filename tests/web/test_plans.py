"""Plans (issue 17): an admin stores plans and puts accounts on them; a plan's clip lengths
and renders a day hold in the API and the pages; every mistake is a 4xx that says what to
change, and nothing is stored by a refused request."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient, signed_in, stored_render

SONYA = "local:sonya@example.com"


def scene_with_storyboard(person: ApiClient) -> str:
    scene = person.post("/api/scenes", json={"text": "A lighthouse in a storm."}).get_json()
    assert person.post(f"/api/scenes/{scene['id']}/finish").status_code == 200
    return scene["id"]


def storyboard_of(person: ApiClient, scene_id: str) -> dict:
    return person.get(f"/api/scenes/{scene_id}").get_json()["storyboard"]


def save(person: ApiClient, scene_id: str, storyboard: dict, seconds: int):
    return person.put(f"/api/scenes/{scene_id}/storyboard", json=storyboard | {"clip_seconds": seconds})


@pytest.fixture
def sonya(app) -> ApiClient:
    return signed_in(app, "sonya@example.com", "Sonya")


@pytest.fixture
def studio(admin) -> dict:
    """A plan of 15- and 30-second clips, two renders a day."""
    response = admin.put("/api/plans/studio", json={"clip_seconds": [15, 30], "daily_renders": 2})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_account_on_no_plan_is_refused_a_longer_clip_naming_the_lengths(sonya, adapters):
    scene_id = scene_with_storyboard(sonya)
    before = adapters.records.get_scene(scene_id)
    response = save(sonya, scene_id, storyboard_of(sonya, scene_id), 30)
    assert response.status_code == 422
    [field] = response.get_json()["error"]["fields"]
    assert field == {
        "field": "clip_seconds",
        "message": "your plan allows clips of 15 s, not 30 s; choose one of those, or ask an admin for a plan "
        "with longer clips",
    }
    assert adapters.records.get_scene(scene_id) == before  # nothing stored


def test_an_anonymous_visitor_is_on_the_free_plan(api):
    scene_id = scene_with_storyboard(api)
    response = save(api, scene_id, storyboard_of(api, scene_id), 60)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["field"] == "clip_seconds"


def test_an_account_on_a_plan_renders_thirty_seconds_and_no_more_than_its_renders_a_day(admin, sonya, studio, adapters):
    assert studio == {"name": "studio", "clip_seconds": [15, 30], "daily_renders": 2}
    put = admin.put(f"/api/plans/accounts/{SONYA}", json={"plan": "studio"})
    assert put.status_code == 200
    assert put.get_json() == {"user_id": SONYA, "email": "sonya@example.com", "plan": "studio"}
    scene_id = scene_with_storyboard(sonya)
    storyboard = storyboard_of(sonya, scene_id)
    sixty = save(sonya, scene_id, storyboard, 60)
    assert sixty.status_code == 422
    assert sixty.get_json()["error"]["fields"][0]["message"].startswith("your plan allows clips of 15, 30 s, not 60 s")
    saved = save(sonya, scene_id, storyboard, 30)
    assert saved.status_code == 200 and saved.get_json()["storyboard"]["clip_seconds"] == 30
    started = sonya.post(f"/api/scenes/{scene_id}/renders", json={"preset": "draft"})
    assert started.status_code == 202
    spec = stored_render(adapters.records, started.get_json()["render_id"]).spec
    assert (spec.duration_s, spec.frames) == (30, 240)
    assert sonya.post(f"/api/scenes/{scene_id}/renders", json={}).status_code == 202
    third = sonya.post(f"/api/scenes/{scene_id}/renders", json={})
    assert third.status_code == 429  # the plan's two a day, not the site's twenty
    assert "You have started 2 renders today" in third.get_json()["error"]["message"]


def test_a_longer_clip_saved_on_a_plan_is_refused_once_the_account_is_off_it(admin, sonya, studio, adapters):
    admin.put(f"/api/plans/accounts/{SONYA}", json={"plan": "studio"})
    scene_id = scene_with_storyboard(sonya)
    assert save(sonya, scene_id, storyboard_of(sonya, scene_id), 30).status_code == 200
    back = admin.put(f"/api/plans/accounts/{SONYA}", json={"plan": None})
    assert back.status_code == 200 and back.get_json()["plan"] is None
    response = sonya.post(f"/api/scenes/{scene_id}/renders", json={})
    assert response.status_code == 403
    assert response.get_json()["error"] == {
        "code": "not_in_plan",
        "message": "Your plan allows clips of 15 s, not 30 s: choose one of those in the storyboard, or ask an "
        "admin for a plan with longer clips.",
    }
    assert adapters.queue.depth() == 0 and adapters.records.list_renders(SONYA) == []


def test_the_plans_and_the_accounts_on_them(admin, sonya, studio):
    admin.put(f"/api/plans/accounts/{SONYA}", json={"plan": "studio"})
    page = admin.get("/api/plans").get_json()
    assert page["plans"] == [
        {"name": "free", "clip_seconds": [15], "daily_renders": 20},  # the settings' daily quota
        {"name": "studio", "clip_seconds": [15, 30], "daily_renders": 2},
    ]
    assert page["accounts"] == [{"user_id": SONYA, "email": "sonya@example.com", "plan": "studio"}]


@pytest.mark.parametrize(
    ("name", "body", "status", "field", "message"),
    [
        ("free", {"clip_seconds": [15, 30], "daily_renders": 5}, 422, None, "The free plan comes from the site's"),
        ("Studio", {"clip_seconds": [15], "daily_renders": 5}, 422, "name", "use lower-case letters, digits"),
        (
            "studio",
            {"clip_seconds": [30, 60], "daily_renders": 5},
            422,
            "clip_seconds",
            "every plan allows 15-second clips; add 15",
        ),
        ("studio", {"clip_seconds": [15, 45], "daily_renders": 5}, 422, "clip_seconds.1", "one of: 15, 30 or 60"),
        ("studio", {"clip_seconds": [15], "daily_renders": 0}, 422, "daily_renders", "at least 1"),
        ("studio", {"clip_seconds": [15], "daily_renders": 1001}, 422, "daily_renders", "at most 1000"),
        ("studio", {"clip_seconds": [15]}, 422, "daily_renders", "this field is required"),
    ],
)
def test_a_plan_that_cannot_be_is_refused_saying_why(admin, adapters, name, body, status, field, message):
    response = admin.put(f"/api/plans/{name}", json=body)
    assert response.status_code == status
    error = response.get_json()["error"]
    if field is None:
        assert error["message"].startswith(message)
    else:
        fields = {item["field"]: item["message"] for item in error["fields"]}
        assert message in fields[field], fields
    assert adapters.records.plans() == []


@pytest.mark.parametrize(
    ("user_id", "plan", "status", "message"),
    [
        ("anon-" + "a" * 32, "studio", 422, "Anon-aaaa"),  # not an account
        (SONYA, "gold", 404, "There is no plan gold; the plans are free, studio."),
        ("google:404", "studio", 404, "No account google:404 has used the site yet"),
    ],
)
def test_an_assignment_that_cannot_be_is_refused_saying_why(
    admin, sonya, studio, adapters, user_id, plan, status, message
):
    response = admin.put(f"/api/plans/accounts/{user_id}", json={"plan": plan})
    assert response.status_code == status
    assert response.get_json()["error"]["message"].startswith(message)
    user = adapters.records.get_user(SONYA)
    assert user is not None and user.plan is None


def test_an_assignment_needs_a_json_body(admin):
    response = admin.put(f"/api/plans/accounts/{SONYA}", data="studio", content_type="text/plain")
    assert response.status_code in (400, 415)


def test_the_admin_s_forms_need_the_csrf_token_and_store_nothing_without_it(admin, sonya, adapters):
    bare = admin.client  # the admin's session, without the token
    assert bare.post("/plans", data={"name": "studio", "daily_renders": "5"}).status_code == 400
    assert bare.put("/api/plans/studio", json={"clip_seconds": [15], "daily_renders": 5}).status_code == 400
    assert bare.post("/plans/accounts", data={"user_id": SONYA, "plan": "free"}).status_code == 400
    assert adapters.records.plans() == []


def test_the_plans_page_stores_a_plan_and_puts_an_account_on_it(admin, sonya, adapters):
    form = {"csrf_token": admin.token, "name": "studio", "clip_seconds": ["30", "60"], "daily_renders": "50"}
    stored = admin.client.post("/plans", data=form)
    assert stored.status_code == 303
    plan = adapters.records.get_plan("studio")
    assert plan is not None and (plan.clip_seconds, plan.daily_renders) == ((15, 30, 60), 50)
    put = admin.client.post("/plans/accounts", data={"csrf_token": admin.token, "user_id": SONYA, "plan": "studio"})
    assert put.status_code == 303
    page = admin.get("/plans").get_data(as_text=True)
    assert "15, 30, 60 seconds" in page and SONYA in page
    scene_page = sonya.get(f"/scenes/{scene_with_storyboard(sonya)}").get_data(as_text=True)
    assert (
        '<option value="60">' in scene_page and "Your plan, studio, allows clips of 15, 30, 60 seconds." in scene_page
    )


def test_the_plans_page_says_what_to_change(admin, adapters):
    form = {"csrf_token": admin.token, "name": "Studio Plan", "daily_renders": "0"}
    page = admin.client.post("/plans", data=form)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "this must be at least 1" in text and 'value="Studio Plan"' in text
    assign = admin.client.post("/plans/accounts", data={"csrf_token": admin.token, "user_id": "ann", "plan": "free"})
    assert assign.status_code == 422 and "Ann is not an account" in assign.get_data(as_text=True)
    assert adapters.records.plans() == []


@pytest.mark.parametrize("daily_renders", ["¹", "9" * 5000])
def test_a_plan_s_daily_renders_that_is_no_number_comes_back_with_a_message(admin, adapters, daily_renders):
    form = {"csrf_token": admin.token, "name": "studio", "daily_renders": daily_renders, "clip_seconds": ["²"]}
    page = admin.client.post("/plans", data=form)
    assert page.status_code == 422
    assert "this must be a whole number" in page.get_data(as_text=True)
    assert adapters.records.plans() == []


def test_the_editor_offers_only_the_plan_s_lengths(sonya):
    page = sonya.get(f"/scenes/{scene_with_storyboard(sonya)}").get_data(as_text=True)
    assert '<option value="15">15 seconds</option>' in page
    assert '<option value="30" disabled>' in page and '<option value="60" disabled>' in page
    assert "Clips of 30 and 60 seconds come with a plan" in page
