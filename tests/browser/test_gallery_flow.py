"""Two people in two browsers: one renders and publishes a clip, the other finds it in
the gallery, votes on it and remixes it into a scene of their own."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_whole_flow import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def api(page, method: str, path: str, live_server: str, body: dict | None = None) -> dict:
    """The JSON API with the page's own cookies, as app.js calls it."""
    token = page.request.get(f"{live_server}/api/session").json()["csrf_token"]
    response = page.request.fetch(f"{live_server}{path}", method=method, headers={"X-CSRFToken": token}, data=body)
    assert response.ok, response.text()
    return response.json()


def test_one_publishes_another_finds_votes_and_remixes(page, other_page, live_server):
    # The first person makes a clip through the API (the whole-flow test drives the pages).
    scene = api(page, "POST", "/api/scenes", live_server, {"text": "Natasha's first ball.", "book": "War and Peace"})
    api(page, "POST", f"/api/scenes/{scene['id']}/finish", live_server)
    started = api(page, "POST", f"/api/scenes/{scene['id']}/renders", live_server, {"preset": "draft"})
    page.goto(f"{live_server}/renders/{started['render_id']}")
    page.wait_for_selector("#sharing:not([hidden])", timeout=180_000)
    page.fill("#publish input[name=display_name]", "Sonya")
    page.click("#publish button[type=submit]")
    expect(page.locator("#sharing")).to_contain_text("Published as Sonya")
    shot(page, "gallery-1-published")

    # The second person finds it, filtered by book.
    other_page.goto(f"{live_server}/gallery")
    other_page.fill(".filters input[name=book]", "war and peace")
    other_page.click(".filters button[type=submit]")
    card = other_page.locator(".card").first
    expect(card).to_contain_text("Sonya")
    expect(card.locator("img.poster")).to_have_js_property("complete", True)
    assert card.locator("img.poster").evaluate("img => img.naturalWidth") > 0  # the poster loaded
    shot(other_page, "gallery-2-cards")
    card.locator("a").first.click()
    other_page.wait_for_url("**/gallery/*")
    expect(other_page.locator("blockquote")).to_contain_text("Natasha's first ball.")  # the recipe

    up = other_page.locator("button.vote[data-value='1']")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(other_page.locator(".count-up")).to_have_text("1")
    shot(other_page, "gallery-3-voted")

    other_page.click("#remix")
    other_page.wait_for_url("**/scenes/*")
    expect(other_page.locator("#sb-title")).to_have_value("War and Peace")
    shot(other_page, "gallery-4-remixed")

    # The owner sees the vote and the remix on the clip's page.
    page.goto(f"{live_server}/gallery/{started['render_id']}")
    expect(page.locator(".count-up")).to_have_text("1")
    expect(page.locator("main")).to_contain_text("Remixed 1 time")
