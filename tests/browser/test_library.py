"""A person's library, in Chromium: My renders as cards with posters, state, duration and
live progress; the renders left today before Render; cancel, delete, publish and render
again from the cards, each answering next to the button pressed."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_gallery_flow import api
from tests.browser.test_whole_flow import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_my_renders_is_a_library_of_cards_with_their_actions(page, live_server):
    scene = api(page, "POST", "/api/scenes", live_server, {"text": "A lighthouse keeper climbs the stairs in a storm."})
    api(page, "POST", f"/api/scenes/{scene['id']}/finish", live_server)

    # The renders left today stand before Render (20 a day for an anonymous visitor here).
    page.goto(f"{live_server}/scenes/{scene['id']}")
    quota = page.locator("#quota")
    expect(quota).to_have_text("You can start 20 more renders today (of 20).")
    assert page.evaluate(
        "document.getElementById('quota').compareDocumentPosition(document.getElementById('render'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    first = api(page, "POST", f"/api/scenes/{scene['id']}/renders", live_server, {"preset": "draft"})
    second = api(
        page, "POST", f"/api/scenes/{scene['id']}/renders", live_server, {"preset": "draft", "keep_preset": True}
    )

    page.goto(f"{live_server}/renders")
    expect(page.locator("#quota")).to_have_text("You can start 18 more renders today (of 20).")
    waiting = page.locator(f".render-card[data-id='{second['render_id']}']")
    expect(waiting.locator(".state")).to_have_text("waiting in the queue")
    expect(waiting.locator(".duration")).to_have_text("15 s")
    expect(waiting.locator("progress")).to_be_visible()
    # While it waits there is nothing to delete: the hidden Delete stays hidden (the CSS no longer shows it).
    expect(waiting.get_by_role("button", name="Delete")).to_be_hidden()
    shot(page, "library-1-waiting")
    waiting.get_by_role("button", name="Cancel").click()
    expect(waiting.locator(".state")).to_have_text("cancelled")
    expect(waiting.get_by_role("button", name="Delete")).to_be_visible()
    expect(waiting.get_by_role("button", name="Cancel")).to_be_hidden()

    # The first finishes while the page watches: its poster, its download, no reload.
    made = page.locator(f".render-card[data-id='{first['render_id']}']")
    expect(made.locator(".state")).to_have_text("ready", timeout=180_000)
    poster = made.locator("img.poster")
    expect(poster).to_be_visible()
    expect(poster).to_have_js_property("complete", True)
    assert poster.evaluate("image => image.naturalWidth") > 0
    expect(made.get_by_role("link", name="Download")).to_be_visible()
    shot(page, "library-2-ready")

    # Publishing takes an account: the card says so, next to the button.
    made.get_by_role("button", name="Publish").click()
    alert = made.get_by_role("alert")
    expect(alert).to_contain_text("account")

    # Delete the cancelled one (after the question), then render the finished one again with a new seed.
    page.once("dialog", lambda dialog: dialog.accept())
    waiting.get_by_role("button", name="Delete").click()
    expect(waiting).to_have_count(0)
    made.get_by_role("button", name="Render again with a new seed").click()
    page.wait_for_url("**/renders/*")
    again = api(page, "GET", page.url.replace(f"{live_server}/renders/", "/api/renders/"), live_server)
    assert again["id"] not in (first["render_id"], second["render_id"])
    items = api(page, "GET", "/api/renders", live_server)["items"]
    assert [item["id"] for item in items] == [again["id"], first["render_id"]]
    page.goto(f"{live_server}/renders")
    expect(page.locator("#quota")).to_have_text(
        "You can start 18 more renders today (of 20)."
    )  # the cancelled one's came back


def test_a_refused_action_says_why_next_to_its_button(page, live_server):
    scene = api(page, "POST", "/api/scenes", live_server, {"text": "Natasha's first ball."})
    api(page, "POST", f"/api/scenes/{scene['id']}/finish", live_server)
    api(page, "POST", f"/api/scenes/{scene['id']}/renders", live_server, {"preset": "draft", "keep_preset": True})
    page.goto(f"{live_server}/renders")
    card = page.locator(".render-card").first
    button = card.get_by_role("button", name="Remix")
    # Whatever the server refuses, its words appear beside the button pressed, and the button is free again.
    page.route(
        "**/remix",
        lambda route: route.fulfill(
            status=409,
            content_type="application/json",
            body='{"error": {"code": "not_ready", "message": "This render is busy."}}',
        ),
    )
    button.click()
    expect(card.get_by_role("alert")).to_have_text("This render is busy.")
    expect(button).to_be_enabled()
