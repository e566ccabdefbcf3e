"""Two people in two browsers: one renders a clip before signing in, signs in from the
render page (the clip comes along) and publishes it; the other finds it in the gallery,
signs in to vote, votes, reports and remixes it. Then an admin clears the report from
the moderation page with the keyboard alone."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_whole_flow import shot
from tests.conftest import ADMIN_EMAIL

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def api(page, method: str, path: str, live_server: str, body: dict | None = None) -> dict:
    """The JSON API with the page's own cookies, as app.js calls it."""
    token = page.request.get(f"{live_server}/api/session").json()["csrf_token"]
    response = page.request.fetch(f"{live_server}{path}", method=method, headers={"X-CSRFToken": token}, data=body)
    assert response.ok, response.text()
    return response.json()


def sign_in_by_keyboard(page, email: str, name: str) -> None:
    """The local sign-in form, filled and sent from the keyboard: the email field, Tab to
    the name, Enter sends it."""
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    page.get_by_label("Email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Name (optional)")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Enter")


def test_one_publishes_another_finds_votes_and_remixes(page, other_page, live_server):
    # The first person makes a clip through the API before signing in (the whole-flow test drives the pages).
    scene = api(page, "POST", "/api/scenes", live_server, {"text": "Natasha's first ball.", "book": "War and Peace"})
    api(page, "POST", f"/api/scenes/{scene['id']}/finish", live_server)
    started = api(page, "POST", f"/api/scenes/{scene['id']}/renders", live_server, {"preset": "draft"})
    render_page = f"{live_server}/renders/{started['render_id']}"
    page.goto(render_page)
    page.wait_for_selector("#sharing:not([hidden])", timeout=180_000)
    expect(page.locator("#publish")).to_have_count(0)  # publishing takes an account
    page.get_by_role("link", name="Sign in to publish").click()
    sign_in_by_keyboard(page, "sonya@example.com", "Sonya")
    page.wait_for_url(render_page)  # back where she was, and the clip is hers now
    expect(page.locator("header")).to_contain_text("Signed in as Sonya")
    page.wait_for_selector("#sharing:not([hidden])")
    page.fill("#publish input[name=display_name]", "Sonya")
    page.click("#publish button[type=submit]")
    expect(page.locator("#sharing")).to_contain_text("Published as Sonya")
    shot(page, "gallery-1-published")

    # The second person finds it, searching for part of the book's title.
    other_page.goto(f"{live_server}/gallery")
    other_page.fill(".filters input[name=q]", "war and pea")
    other_page.click(".filters button[type=submit]")
    card = other_page.locator(".card").first
    expect(card).to_contain_text("Sonya")
    expect(card.locator("img.poster")).to_have_js_property("complete", True)
    assert card.locator("img.poster").evaluate("img => img.naturalWidth") > 0  # the poster loaded
    shot(other_page, "gallery-2-cards")
    card.locator("a").first.click()
    other_page.wait_for_url("**/gallery/*")
    clip_url = other_page.url
    expect(other_page.locator("blockquote")).to_contain_text("Natasha's first ball.")  # the recipe
    expect(other_page.locator("button.vote")).to_have_count(0)  # anonymous: counts, and a way to sign in
    other_page.get_by_role("link", name="Sign in to vote or report").click()
    sign_in_by_keyboard(other_page, "dunya@example.com", "Dunya")
    other_page.wait_for_url(clip_url)

    up = other_page.locator("button.vote[data-value='1']")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(other_page.locator(".count-up")).to_have_text("1")
    other_page.once("dialog", lambda dialog: dialog.accept())
    other_page.click("#report")
    expect(other_page.locator(".reactions .thanks")).to_have_text("Thank you: the clip is reported.")
    shot(other_page, "gallery-3-voted")

    other_page.click("#remix")
    other_page.wait_for_url("**/scenes/*")
    expect(other_page.locator("#sb-title")).to_have_value("Remix of War and Peace")
    shot(other_page, "gallery-4-remixed")

    # The owner sees the vote and the remix on the clip's page, and has no vote of her own.
    page.goto(f"{live_server}/gallery/{started['render_id']}")
    expect(page.locator(".count-up")).to_have_text("1")
    expect(page.locator("main")).to_contain_text("Remixed 1 time")
    expect(page.locator("button.vote")).to_have_count(0)

    # She signs out and an admin signs in: the report waits on the moderation page.
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("header")).not_to_contain_text("Signed in")
    page.goto(f"{live_server}/signin?next=/moderation")
    sign_in_by_keyboard(page, ADMIN_EMAIL, "Ada")
    page.wait_for_url("**/moderation")
    review = page.get_by_role("region", name="War and Peace")
    expect(review).to_contain_text("dunya@example.com")
    shot(page, "gallery-5-moderation")
    clear = review.get_by_role("button", name="Clear: back in the gallery")
    for _ in range(60):  # Tab from the top of the page until the button has the focus
        if clear.evaluate("button => button === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(clear).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("Nothing waits for a decision.")
