"""A whole book in a real browser: start it, write two scenes in its look, render them,
reorder them from the keyboard, render the reel, and play it with its subtitle track as
Chromium's own WebVTT parser reads it (each clip's words moved past the title cards)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_words_on_screen import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCENES = (
    ("Глава первая", "Раскольников вечером идёт по мосту через Неву.", "Он вышел на мост. Ветер дул с залива."),
    ("Глава вторая", "Раскольников поднимается по тёмной лестнице.", "Лестница была узкая и тёмная. Он шёл тихо."),
)


def write_and_render(page, book_url: str, chapter: str, text: str, passage: str) -> None:
    page.goto(book_url)
    page.fill("#chapter", chapter)
    page.fill("#text", text)
    page.fill("#passage", passage)
    page.get_by_role("button", name="Write the scene").click()
    page.wait_for_selector("#answers, #storyboard li.shot")
    if page.locator("#skip").count():
        page.click("#skip")
    page.wait_for_selector("#storyboard li.shot")
    # Drafted in the book's look: its style and period, its shape.
    assert page.input_value("#sb-style") == "oil painting, St Petersburg, 1860s"
    assert page.input_value("#sb-aspect") == "16:9"
    page.select_option("#sb-preset", "draft")
    page.click("#render")
    page.wait_for_url("**/renders/*", timeout=90_000)
    page.wait_for_selector("#result:not([hidden])", timeout=180_000)


def test_a_book_becomes_one_reel_with_its_words(page, live_server):
    page.goto(f"{live_server}/books")
    page.fill("#title", "Преступление и наказание")
    page.fill("#author", "Ф. М. Достоевский")
    page.fill("#characters", "Raskolnikov: gaunt young man in a worn coat")
    page.fill("#style", "oil painting")
    page.fill("#period", "St Petersburg, 1860s")
    page.press("#title", "Enter")  # the keyboard sends the form
    page.wait_for_url("**/books/*")
    book_url = page.url

    for chapter, text, passage in SCENES:
        write_and_render(page, book_url, chapter, text, passage)

    page.goto(book_url)
    scenes = page.locator("ol.book-scenes > li")
    expect(scenes).to_have_count(2)
    first_id, second_id = (scenes.nth(index).get_attribute("data-scene-id") for index in range(2))
    page.focus("text=Move scene 2 up")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("ol.book-scenes > li").first).to_have_attribute("data-scene-id", second_id)
    assert page.locator("ol.book-scenes > li").nth(1).get_attribute("data-scene-id") == first_id
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "book-1-page.png"), full_page=True)

    page.get_by_role("button", name="Render the reel").click()
    page.wait_for_url("**/renders/*")
    expect(page.locator("h1")).to_have_text("Преступление и наказание")
    page.wait_for_selector("#result:not([hidden])", timeout=180_000)
    video = "document.querySelector('#result video')"
    wait_until(lambda: page.evaluate(f"{video}.readyState") >= 2, seconds=30)
    assert page.evaluate(f"[{video}.videoWidth, {video}.videoHeight]") == [112, 64]  # the tiny model's 16:9
    # card 3 s + clip 15 s + card 3 s + clip 15 s
    assert page.evaluate(f"{video}.duration") == pytest.approx(36.0, abs=0.1)
    assert page.evaluate(f"[{video}.textTracks[0].kind, {video}.textTracks[0].language]") == ["subtitles", "ru"]
    wait_until(lambda: page.evaluate(f"{video}.textTracks[0].cues ? {video}.textTracks[0].cues.length : 0") > 0, 10)
    cues = page.evaluate(
        f"Array.from({video}.textTracks[0].cues, (c) => [c.startTime, c.endTime, c.getCueAsHTML().textContent])"
    )
    # The second scene's words now come first, from the end of the first card (3 s); the first
    # scene's from the end of the second card (3 + 15 + 3 = 21 s); none over a card.
    first_part = [cue for cue in cues if cue[0] < 18]
    second_part = [cue for cue in cues if cue[0] >= 18]
    assert first_part and second_part
    assert first_part[0][0] == pytest.approx(3.0) and second_part[0][0] == pytest.approx(21.0)
    assert all(text in SCENES[1][2] for *_, text in first_part)
    assert all(text in SCENES[0][2] for *_, text in second_part)
    assert all(3.0 <= start < end <= 18.0 for start, end, _ in first_part)
    assert all(21.0 <= start < end <= 36.0 for start, end, _ in second_part)
    page.evaluate(f"{video}.currentTime = 22; {video}.play()")
    wait_until(lambda: page.evaluate(f"{video}.currentTime") > 22.2, seconds=20)
    page.screenshot(path=str(ARTIFACTS / "book-2-reel.png"), full_page=True)
