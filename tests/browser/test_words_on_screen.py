"""Widescreen and the book's words, in a real browser: the editor's frame and quote lines,
the clip at its shape, the subtitle track as Chromium's own WebVTT parser reads it, and
the download with the words burned in."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.media import probe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSAGE = "Он вышел на мост. Ветер дул с залива. Нева была тиха и темна. Фонари ещё не горели."
EDITED = "Он вышел & <не спеша>"  # the person's own line: & and < must survive the WebVTT file


def wait_until(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_widescreen_clip_with_the_books_words(page, live_server, tmp_path):
    page.goto(live_server)
    page.fill("#text", "Раскольников вечером идёт по мосту через Неву.")
    page.fill("#passage", PASSAGE)
    page.click("button[type=submit]")
    page.wait_for_selector("#answers, #storyboard li.shot")
    if page.locator("#skip").count():
        page.click("#skip")
    page.wait_for_selector("#storyboard li.shot")

    quotes = page.locator("li.shot input[name=quote]")
    drafted = [quotes.nth(index).input_value() for index in range(quotes.count())]
    assert len(drafted) >= 3 and all(drafted) and all(quote in PASSAGE for quote in drafted)
    assert page.input_value("#sb-aspect") == "1:1"
    page.select_option("#sb-aspect", "16:9")
    quotes.nth(0).fill(EDITED)
    quotes.nth(1).fill("")  # dropped: no words during the second shot
    page.select_option("#sb-preset", "draft")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "words-1-storyboard.png"), full_page=True)
    page.click("#storyboard button[type=submit]")

    page.wait_for_url("**/renders/*", timeout=90_000)
    page.wait_for_selector("#result:not([hidden])", timeout=180_000)
    video = "document.querySelector('#result video')"
    wait_until(lambda: page.evaluate(f"{video}.readyState") >= 2, seconds=30)
    assert page.evaluate(f"[{video}.videoWidth, {video}.videoHeight]") == [112, 64]  # the tiny model's 16:9
    assert page.evaluate(f"[{video}.textTracks[0].kind, {video}.textTracks[0].language]") == ["subtitles", "ru"]
    wait_until(lambda: page.evaluate(f"{video}.textTracks[0].cues ? {video}.textTracks[0].cues.length : 0") > 0, 10)
    # The cue's text as the parser turns it into the HTML it shows (its raw .text keeps the escapes).
    cues = page.evaluate(
        f"Array.from({video}.textTracks[0].cues, (c) => [c.startTime, c.endTime, c.getCueAsHTML().textContent])"
    )
    assert cues[0][0] == 0 and cues[0][2] == EDITED  # Chromium's WebVTT parser reads the escapes back
    assert len(cues) == len(drafted) - 1 and all(text in PASSAGE for _, _, text in cues[1:])
    assert all(end > start for start, end, _ in cues)
    page.screenshot(path=str(ARTIFACTS / "words-2-playing.png"), full_page=True)

    expect(page.locator("#download-subtitled")).to_be_visible()
    with page.expect_download() as download_info:
        page.click("#download-subtitled")
    download = download_info.value
    assert download.suggested_filename.endswith("-subtitled.mp4")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    info = probe(saved)
    assert info["size"] == (112, 64) and info["duration_s"] == pytest.approx(15.0)
