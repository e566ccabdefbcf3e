"""No surprise work and no lost work, in Chromium: busy buttons and one request per click,
Enter that never renders, the scene's length limit said aloud, two tabs that do not
overwrite each other silently, a warning before leaving unsaved edits, and typed answers
that survive a reload."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_gallery_flow import api
from tests.browser.test_whole_flow import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def ready_scene(page, live_server: str) -> str:
    scene = api(page, "POST", "/api/scenes", live_server, {"text": "A lighthouse keeper climbs the stairs in a storm."})
    api(page, "POST", f"/api/scenes/{scene['id']}/finish", live_server)
    return f"{live_server}/scenes/{scene['id']}"


def sent(requests: list, method: str, part: str) -> list:
    return [request for request in requests if request.method == method and part in request.url]


def test_a_double_click_on_continue_sends_one_scene_and_the_button_shows_it_is_busy(page, live_server):
    held = []
    page.route("**/api/scenes", lambda route: held.append(route))  # answered when the test says so
    page.goto(live_server)
    page.fill("#text", "Raskolnikov crosses the Neva at dusk.")
    button = page.get_by_role("button", name="Continue")
    button.dblclick()
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("aria-busy", "true")
    page.wait_for_timeout(300)  # a second request, if there were one, has had time to leave
    assert len(held) == 1
    assert held[0].request.header_value("Idempotency-Key")
    for route in held:
        route.continue_()
    page.wait_for_url("**/scenes/*")


def test_a_double_click_on_render_starts_one_render(page, live_server):
    page.goto(ready_scene(page, live_server))
    requests: list = []
    page.on("request", lambda request: requests.append(request))
    page.select_option("#sb-preset", "draft")
    page.get_by_role("button", name="Render the clip").dblclick()
    page.wait_for_url("**/renders/*")
    assert len(sent(requests, "POST", "/renders")) == 1
    assert len(api(page, "GET", "/api/renders", live_server)["items"]) == 1


def test_enter_in_a_one_line_field_never_saves_nor_renders(page, live_server):
    scene_page = ready_scene(page, live_server)
    page.goto(scene_page)
    page.wait_for_selector("#storyboard li.shot")
    requests: list = []
    page.on("request", lambda request: requests.append(request))
    for field in ("#sb-title", "#sb-style", "#sb-seed", "li.shot input[name=camera]", "li.shot input[name=start_s]"):
        page.locator(field).first.focus()
        page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert sent(requests, "PUT", "/storyboard") == [] and sent(requests, "POST", "/renders") == []
    assert page.url == scene_page
    assert api(page, "GET", "/api/renders", live_server)["items"] == []


def test_a_long_paste_is_kept_whole_and_the_page_says_the_limit(page, live_server):
    page.goto(live_server)
    area = page.locator("#text")
    area.focus()
    page.keyboard.insert_text("ё" * 4000)  # as a paste: a maxlength would cut it
    expect(page.locator("#text-count")).to_have_text("Characters: 4000 / 4000")
    page.keyboard.insert_text("ж" * 16000)
    assert page.evaluate("document.getElementById('text').value.length") == 20000  # nothing cut
    expect(page.locator("#text-count")).to_have_text(
        "Too long: 20000 characters, and the limit is 4000. Shorten it to continue."
    )
    expect(area).to_have_attribute("aria-invalid", "true")
    requests: list = []
    page.on("request", lambda request: requests.append(request))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_timeout(300)
    assert sent(requests, "POST", "/api/scenes") == []  # the page prevents it
    expect(area).to_be_focused()
    shot(page, "limit-over")


def test_two_tabs_a_stale_save_offers_to_load_or_keep_mine(page, live_server):
    scene_page = ready_scene(page, live_server)
    other_tab = page.context.new_page()
    page.goto(scene_page)
    other_tab.goto(scene_page)
    page.fill("#sb-title", "First tab")
    page.click("#save")
    expect(page.locator(".saved")).to_have_text("Saved.")

    other_tab.fill("#sb-title", "Second tab")
    other_tab.click("#save")
    conflict = other_tab.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("saved from somewhere else")
    shot(other_tab, "stale-save")
    other_tab.get_by_role("button", name="Keep mine and save it over that one").click()
    expect(other_tab.locator(".saved")).to_have_text("Saved.")
    expect(conflict).to_be_hidden()

    page.fill("#sb-title", "First tab, again")
    page.click("#save")
    expect(page.locator("#conflict")).to_be_visible()
    page.get_by_role("button", name="Load the saved storyboard").click()
    expect(page.locator("#sb-title")).to_have_value("Second tab")
    other_tab.close()


def test_leaving_unsaved_edits_asks_first(page, live_server):
    scene_page = ready_scene(page, live_server)
    page.goto(scene_page)
    page.locator("#sb-title").click()
    page.keyboard.type(" in the rain")
    dialogs: list = []

    def answer(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    page.get_by_role("link", name="My renders").click()
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.url == scene_page
    page.click("#save")
    expect(page.locator(".saved")).to_have_text("Saved.")
    page.get_by_role("link", name="My renders").click()
    page.wait_for_url("**/renders")
    assert dialogs == ["beforeunload"]  # saved: no question


def test_typed_answers_survive_a_reload(page, live_server):
    page.goto(live_server)
    page.fill("#text", "Raskolnikov crosses the Neva at dusk.")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("#answers")
    first = page.locator("#answers textarea").first
    first.click()
    page.keyboard.type("he stops on the bridge")
    page.reload()
    expect(page.locator("#answers textarea").first).to_have_value("he stops on the bridge")
