"""A person's whole visit, in a real browser: scene, questions, storyboard, render, play, download."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.media import probe

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_until(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_scene_becomes_a_clip_that_plays_and_downloads(page, live_server, tmp_path):
    page.goto(live_server)
    assert "random weights" in page.text_content(".banner")
    page.fill("#text", "Raskolnikov crosses the Neva at dusk.")
    page.fill("#book", "Crime and Punishment")
    shot(page, "1-new-scene")
    page.click("button[type=submit]")

    page.wait_for_selector("#answers")
    questions = page.query_selector_all("#answers textarea")
    assert 1 <= len(questions) <= 3
    for area in questions:
        area.fill("he stops on the bridge and stares at the dark water, gloomy oil painting")
    shot(page, "2-questions")
    page.click("#answers button[type=submit]")

    page.wait_for_selector("#storyboard li.shot")
    assert page.input_value("#sb-title") == "Crime and Punishment"
    # (No wait_for_function: it evaluates strings in the page, which the site's CSP rightly forbids.)
    expect(page.locator(".tokens").first).to_contain_text("/ 77 tokens (estimated)")
    first_prompt = page.locator("li.shot textarea[name=prompt]").first
    first_prompt.fill("a lantern " * 40)  # too long: the counter turns red, saving names the field
    page.wait_for_selector(".tokens.over")
    page.click("#save")
    expect(page.locator("[data-shot-field=prompt]").first).to_contain_text("shorten it")
    shot(page, "3-storyboard-error")
    first_prompt.fill("a gaunt young man walks onto a stone bridge over a wide river")
    page.select_option("#sb-preset", "draft")
    page.click("#render")

    page.wait_for_url("**/renders/*")
    shot(page, "4-rendering")
    page.wait_for_selector("#result:not([hidden])", timeout=180_000)
    wait_until(lambda: page.evaluate("document.querySelector('#result video').readyState") >= 2, seconds=30)
    duration = page.evaluate("document.querySelector('#result video').duration")
    assert duration == pytest.approx(15.0, abs=0.1)
    shot(page, "5-playing")

    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    assert download.suggested_filename == "crime-and-punishment.mp4"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert probe(saved)["duration_s"] == pytest.approx(15.0)

    page.click("text=My renders")
    assert "Crime and Punishment" in page.text_content(".library")
    assert "ready" in page.text_content(".library")


def test_a_waiting_render_shows_its_place_and_can_be_cancelled_from_its_page(page, live_server):
    page.goto(live_server)
    page.fill("#text", "A lighthouse keeper climbs the stairs in a storm.")
    page.click("button[type=submit]")
    page.wait_for_selector("#answers, #storyboard li.shot")
    if page.locator("#skip").count():
        page.click("#skip")
    page.wait_for_selector("#storyboard li.shot")
    page.select_option("#sb-preset", "draft")
    page.click("#render")
    page.wait_for_url("**/renders/*")
    first = page.url
    page.click("text=Back to the storyboard")
    page.wait_for_selector("#storyboard li.shot")
    page.check("input[name=keep_preset]")
    page.click("#render")
    page.wait_for_url(lambda url: "/renders/" in url and url != first)
    # The second waits behind the first: its place in the queue, no estimate before any render is timed.
    expect(page.locator("#progress .queue")).to_contain_text("in the queue")
    expect(page.locator("#cancel")).to_be_enabled()
    shot(page, "6-waiting")
    page.click("#cancel")
    expect(page.locator("#cancelled")).to_be_visible()
    expect(page.locator("#progress")).to_be_hidden()
    expect(page.locator("#delete")).to_be_visible()
    shot(page, "7-cancelled")
    page.click("text=My renders")
    assert "cancelled" in page.text_content(".library")
