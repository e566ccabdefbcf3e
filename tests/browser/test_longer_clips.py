"""Longer clips on a plan (issue 17), in a real browser: an admin stores a plan and puts an
account on it with the plans page's forms; the account chooses 30 seconds in the editor, the
timeline and its heading follow, a shot goes past 15 s, and the clip that plays is 30 s
long. Someone on the free plan finds 30 and 60 s offered but not choosable."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_every_page import api, sign_in
from tests.conftest import ADMIN_EMAIL

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READER = "reader@example.com"


def wait_until(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_an_account_on_a_plan_chooses_thirty_seconds_in_the_editor(page, other_page, live_server):
    reader, admin = page, other_page
    sign_in(reader.context, live_server, READER)
    scene = api(reader.context, live_server, "POST", "/api/scenes", {"text": "A lighthouse keeper in a storm."})
    api(reader.context, live_server, "POST", f"/api/scenes/{scene['id']}/finish")

    # On the free plan: the longer lengths are there, and not to be chosen.
    reader.goto(f"{live_server}/scenes/{scene['id']}")
    reader.wait_for_selector("#storyboard li.shot")
    expect(reader.locator("#sb-length option[value='30']")).to_be_disabled()
    expect(reader.locator("#sb-length-plan")).to_contain_text("Clips of 30 and 60 seconds come with a plan")

    # The admin, with the plans page's forms.
    sign_in(admin.context, live_server, ADMIN_EMAIL)
    admin.goto(f"{live_server}/plans")
    admin.get_by_label("Name (lower-case letters").fill("studio")
    admin.get_by_label("30 seconds").check()
    admin.get_by_label("Renders a day").fill("5")
    admin.get_by_role("button", name="Store the plan").click()
    admin.wait_for_url(f"{live_server}/plans")
    expect(admin.locator("table").first).to_contain_text("15, 30 seconds")
    admin.get_by_label("Account (its id").fill(f"local:{READER}")
    admin.select_option("#plan-choice", "studio")
    admin.get_by_role("button", name="Put on this plan").click()
    expect(admin.locator("main")).to_contain_text(f"local:{READER}")

    # The reader chooses 30 s: the heading, the scale and the shots' limit follow.
    reader.reload()
    reader.wait_for_selector("#storyboard li.shot")
    expect(reader.locator("#sb-length-plan")).to_contain_text("Your plan, studio, allows clips of 15, 30 seconds.")
    expect(reader.locator("#sb-length option[value='60']")).to_be_disabled()
    reader.select_option("#sb-length", "30")
    expect(reader.locator("#shots-heading")).to_have_text("Shots (30 seconds in all)")
    expect(reader.locator("#timeline-scale span").last).to_have_text("30 s")
    reader.click("#add-shot")
    last = reader.locator("li.shot").last
    last.locator("[name=start_s]").fill("25")
    last.locator("[name=prompt]").fill("dawn over the calm sea")
    reader.click("#save")
    expect(reader.locator(".saved")).to_have_text("Saved.")
    saved = api(reader.context, live_server, "GET", f"/api/scenes/{scene['id']}")["storyboard"]
    assert saved["clip_seconds"] == 30 and saved["shots"][-1]["start_s"] == 25

    reader.select_option("#sb-preset", "draft")
    reader.click("#render")
    reader.wait_for_url("**/renders/*")
    reader.wait_for_selector("#result:not([hidden])", timeout=240_000)
    wait_until(lambda: reader.evaluate("document.querySelector('#result video').readyState") >= 2, seconds=30)
    assert reader.evaluate("document.querySelector('#result video').duration") == pytest.approx(30.0, abs=0.1)
