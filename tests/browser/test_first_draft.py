"""A person's first storyboard without a key, in Chromium (issue 20, item 1): each shot its
own beat (the place wide, the person medium, the telling detail close, a closing image),
and the page says which engine drafted it. The expected shots were written by hand from
the rules in frontend_service/dialogue/offline.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCENE = "Raskolnikov climbs the dark narrow staircase to the old pawnbroker's flat, an axe hidden under his coat."


def test_the_offline_draft_is_a_film_of_beats_and_says_who_drafted_it(page, live_server):
    page.goto(live_server)
    page.fill("#text", SCENE)
    page.fill("#book", "Crime and Punishment")
    page.click("button[type=submit]")
    page.wait_for_selector("#answers, #storyboard li.shot")
    if page.locator("#skip").count():
        page.click("#skip")
    page.wait_for_selector("#storyboard li.shot")
    expect(page.locator(".drafted-by")).to_have_attribute("data-engine", "offline")
    expect(page.locator(".drafted-by")).to_contain_text("offline assistant")
    prompts = page.locator("li.shot textarea[name=prompt]")
    cameras = page.locator("li.shot [name=camera]")
    starts = page.locator("li.shot [name=start_s]")
    shots = [
        (starts.nth(i).input_value(), cameras.nth(i).input_value(), prompts.nth(i).input_value())
        for i in range(prompts.count())
    ]
    assert shots == [
        ("0", "wide establishing shot", "the dark narrow staircase"),
        ("4", "medium shot", "Raskolnikov climbs the dark narrow staircase to the old pawnbroker's flat"),
        ("7.5", "close-up", "an axe hidden under his coat"),
        ("11", "wide shot, slow pull back", "the dark narrow staircase, empty"),
    ]
