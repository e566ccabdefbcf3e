"""The rough edges a new person met (issue 20), each in Chromium: the demo banner on a
phone, Russian words for stages, states and dates, the gallery's search, a remix's own
title, one report and a plain thank-you, no votes on one's own clip, vote buttons named
by their words, the site with JavaScript off, tap targets, growing prompt boxes, focus
after removing a shot, the skip link and the storyboard's timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_every_page import api, sign_in, wait_for_render
from tests.browser.test_whole_flow import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
RED = "rgb(179, 38, 30)"  # --bad in app.css


@pytest.fixture(scope="module")
def published(browser, live_server, tmp_path_factory):
    """Sonya's finished clip, published: title, book and author to search for."""
    owner = browser.new_context()
    sign_in(owner, live_server, "sonya@example.com")
    scene = api(owner, live_server, "POST", "/api/scenes", {"text": "A student on a bridge at dusk."})
    api(owner, live_server, "POST", f"/api/scenes/{scene['id']}/finish")
    storyboard = {
        "title": "Café on the Néva",
        "book": "Crime and Punishment",
        "author": "Fyodor Dostoevsky",
        "style": "oil painting",
        "shots": [{"start_s": 0, "prompt": "a bridge over a river at dusk"}],
    }
    api(owner, live_server, "PUT", f"/api/scenes/{scene['id']}/storyboard", storyboard)
    render = api(owner, live_server, "POST", f"/api/scenes/{scene['id']}/renders", {"preset": "draft"})
    wait_for_render(owner, live_server, render["render_id"])
    api(owner, live_server, "POST", f"/api/renders/{render['render_id']}/publish", {"display_name": "Sonya"})
    state = str(tmp_path_factory.mktemp("sonya") / "state.json")
    owner.storage_state(path=state)
    owner.close()
    return {"render": render["render_id"], "scene": scene["id"], "owner_state": state}


def test_the_demo_banner_speaks_to_a_person_in_two_lines_on_a_phone(browser, live_server):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(live_server)
    banner = page.locator(".banner")
    summary = banner.locator("summary")
    line = float(summary.evaluate("node => parseFloat(getComputedStyle(node).lineHeight)"))
    assert summary.bounding_box()["height"] <= 2 * line + 1  # one or two lines, closed
    assert banner.bounding_box()["height"] <= 0.1 * PHONE["height"]
    expect(summary).to_contain_text("not your scene")
    assert "ANIMBOOKS_" not in banner.text_content()  # no setting names
    expect(banner.locator("code")).to_be_hidden()
    summary.click()
    expect(banner.locator("code")).to_have_text("make weights")  # the one command, once opened
    context.close()


def test_tap_targets_are_at_least_24_px_on_a_phone(browser, live_server, published):
    context = browser.new_context(viewport=PHONE, storage_state=published["owner_state"])
    page = context.new_page()
    for path in ("/", "/gallery", f"/gallery/{published['render']}", f"/renders/{published['render']}"):
        page.goto(f"{live_server}{path}")
        targets = page.locator("header a, header button, header summary, .banner summary, main button:visible")
        for index in range(targets.count()):
            target = targets.nth(index)
            if not target.is_visible():
                continue
            box = target.bounding_box()
            name = target.text_content()
            assert box["height"] >= 24 and box["width"] >= 24, f"{path}: {name!r} is {box['width']}x{box['height']}"
    context.close()


def test_the_skip_link_is_first_and_moves_focus_to_the_content(page, live_server):
    page.goto(f"{live_server}/gallery")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_with_javascript_off_the_scene_is_posted_and_a_message_says_what_needs_it(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server)
    # (Playwright turns scripts off after parsing, so Chromium still reads <noscript> as text here.)
    assert "This site needs JavaScript for the storyboard" in page.locator("noscript").first.text_content()
    page.fill("#text", "Raskolnikov crosses the Neva at dusk.")
    page.fill("#book", "Crime and Punishment")
    with page.expect_request(lambda request: request.method == "POST") as sent:
        page.click("#new-scene button[type=submit]")
    assert sent.value.url.rstrip("/") == live_server and "Raskolnikov" not in sent.value.url
    page.wait_for_url("**/scenes/*")
    assert "?" not in page.url  # never the scene in an address
    expect(page.locator(".scene-text blockquote")).to_have_text("Raskolnikov crosses the Neva at dusk.")
    # the questions' form works too, posted to the scene's page
    answers = page.locator("#answers textarea")
    expect(answers.first).to_be_visible()
    answers.first.fill("at dusk, gloomy")
    page.click("#answers button[type=submit]:not(#skip)")
    page.wait_for_url(re.compile(r"/scenes/\w+$"))
    expect(page.locator("#storyboard")).to_be_attached()
    expect(page.locator("#storyboard")).to_contain_text("need JavaScript")
    context.close()


def test_the_storyboard_timeline_focus_and_growing_prompts(page, live_server):
    page.goto(live_server)
    page.fill("#text", "A lighthouse keeper climbs the stairs in a storm.")
    page.click("#new-scene button[type=submit]")
    page.wait_for_selector("#answers, #storyboard li.shot")
    if page.locator("#skip").count():
        page.click("#skip")
    page.wait_for_selector("#storyboard li.shot")
    shots = page.locator("li.shot")
    while shots.count() < 3:
        page.click("#add-shot")
    while shots.count() > 3:
        shots.last.locator(".remove-shot").click()
    starts = page.locator("li.shot input[name=start_s]")
    for index, start in enumerate(("0", "5", "10")):
        starts.nth(index).fill(start)
    # The timeline: one segment per shot, from its start to the next one's, on 15 seconds.
    timeline = page.locator("#timeline")
    segments = timeline.locator(".segment")
    expect(segments).to_have_count(3)
    width = timeline.bounding_box()["width"]

    def left(index: int) -> float:
        return (segments.nth(index).bounding_box()["x"] - timeline.bounding_box()["x"]) / width

    assert left(1) == pytest.approx(5 / 15, abs=0.01) and left(2) == pytest.approx(10 / 15, abs=0.01)
    starts.nth(1).fill("3")  # it follows the start times as they are typed
    assert left(1) == pytest.approx(3 / 15, abs=0.01)
    assert segments.nth(0).bounding_box()["width"] / width == pytest.approx(3 / 15, abs=0.01)
    expect(timeline).to_have_attribute("aria-label", re.compile(r"shot 2: 3 s to 10 s"))

    # A prompt box grows with what is typed.
    prompt = page.locator("li.shot textarea[name=prompt]").first
    before = prompt.bounding_box()["height"]
    prompt.fill("a lighthouse on a rock in a storm at night, waves breaking over it, " * 6)
    assert prompt.bounding_box()["height"] > before + 20

    # Removing a shot by keyboard leaves the focus in the shots, not on the page.
    second_remove = shots.nth(1).locator(".remove-shot")
    second_remove.focus()
    page.keyboard.press("Enter")
    expect(shots).to_have_count(2)
    expect(shots.nth(1).locator(".remove-shot")).to_be_focused()
    expect(segments).to_have_count(2)
    shots.nth(1).locator(".remove-shot").focus()
    page.keyboard.press("Enter")  # the last one: focus goes to the one before
    expect(shots.nth(0).locator(".remove-shot")).to_be_focused()
    page.keyboard.press("Enter")  # none left: Add a shot
    expect(page.locator("#add-shot")).to_be_focused()
    shot(page, "rough-edges-storyboard")


def test_gallery_search_is_partial_and_blind_to_case_and_accents(page, live_server, published):
    page.goto(f"{live_server}/gallery")
    search = page.get_by_label("Search titles, books and authors")
    for words in ("crim", "PUNISH", "dostoev", "cafe on the ne", "neva", "fyodor dost"):
        search.fill(words)
        page.click(".filters button[type=submit]")
        expect(page.locator(".card"), words).to_have_count(1)
        expect(page.locator(".card .title")).to_have_text("Café on the Néva")
    search.fill("rime")  # inside a word, not at its start: no
    page.click(".filters button[type=submit]")
    expect(page.locator(".card")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("No clip matches “rime”.")
    expect(page.locator("main")).not_to_contain_text("Nothing here yet")
    page.get_by_role("link", name="See every clip").click()
    expect(page.locator(".card")).to_have_count(1)


def test_votes_report_and_remix_on_someone_elses_clip(browser, page, live_server, published):
    clip = f"{live_server}/gallery/{published['render']}"
    # The owner: no vote buttons, no report.
    owner = browser.new_context(storage_state=published["owner_state"])
    owner_page = owner.new_page()
    owner_page.goto(clip)
    expect(owner_page.locator("button.vote")).to_have_count(0)
    expect(owner_page.locator("#report")).to_have_count(0)
    owner.close()

    sign_in(page.context, live_server, "dunya@example.com")
    page.goto(clip)
    # Each vote button's accessible name holds its visible words (WCAG 2.5.3).
    for button in (page.locator("button.vote[data-value='1']"), page.locator("button.vote[data-value='-1']")):
        visible = button.inner_text().replace("▲", "").replace("▼", "").strip()
        name = button.evaluate("b => b.getAttribute('aria-label')") or visible
        assert visible and visible in name
    expect(page.get_by_role("button", name="Up 0")).to_be_visible()
    page.get_by_role("button", name="Up 0").click()
    expect(page.get_by_role("button", name="Up 1")).to_have_attribute("aria-pressed", "true")

    # One report, thanked in plain words (not an error's red), and no second button.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#report")
    thanks = page.locator(".reactions .thanks")
    expect(thanks).to_have_text("Thank you: the clip is reported.")
    assert thanks.evaluate("node => getComputedStyle(node).color") != RED
    expect(page.locator(".reactions .error")).to_have_text("")
    expect(page.locator("#report")).to_have_count(0)
    page.reload()
    expect(page.locator("#report")).to_have_count(0)
    expect(thanks).to_have_text("Thank you: the clip is reported.")

    # A remix gets a title of its own: never two identical cards.
    page.click("#remix")
    page.wait_for_url("**/scenes/*")
    expect(page.locator("#sb-title")).to_have_value("Remix of Café on the Néva")


def test_stages_states_and_dates_in_russian(browser, live_server, published):
    context = browser.new_context(storage_state=published["owner_state"])
    page = context.new_page()
    page.goto(f"{live_server}/renders?lang=ru")
    listing = page.locator(".library li").first
    expect(listing.locator(".state")).to_have_text("готово")
    date = listing.locator("time").inner_text()
    assert re.search(r"[а-я]", date) and not re.search(r"[A-Za-z]{3}", date.replace("UTC", "")), date
    # A new render's stage, as the page polls it: a Russian name, whatever stage it is in.
    started = api(context, live_server, "POST", f"/api/scenes/{published['scene']}/renders", {"preset": "draft"})
    page.goto(f"{live_server}/renders/{started['render_id']}")
    russian = {"в очереди", "запускается", "идёт", "загрузка модели", "рисуются кадры", "декодируются кадры"}
    russian |= {"записывается видео"}
    stage = page.locator("#progress .stage")
    text = stage.inner_text()
    assert text in russian, text
    for _ in range(50):
        text = stage.inner_text()
        assert text in russian or not page.locator("#progress").is_visible(), text
        if text not in ("в очереди", "запускается"):
            break
        page.wait_for_timeout(200)
    context.close()


def test_a_failed_render_says_why_in_russian(browser, live_server, live_data, published):
    """The render page tells a failure in the person's language, not the job's English."""
    from infra.bootstrap import bootstrap
    from infra.domain import failures
    from infra.domain.render import Render
    from infra.settings import Settings
    from tests.conftest import stored_render

    context = browser.new_context(storage_state=published["owner_state"])
    owner = api(context, live_server, "GET", "/api/session")["user"]
    records = bootstrap(Settings(data_dir=live_data)).records
    # Made in the records, not queued: no worker takes it, so it fails with this reason only.
    render = Render(user_id=owner, spec=stored_render(records, published["render"]).spec)
    records.create_render(render)
    assert records.mark_failed(
        render.id, failures.renderer_stopped(RuntimeError("CUDA error: an illegal memory access"))
    )
    page = context.new_page()
    page.goto(f"{live_server}/renders/{render.id}?lang=ru")
    expect(page.locator("#failure .error")).to_have_text(
        "Рендер не удался: Рендерер остановился из-за ошибки. Попробуйте ещё раз."
    )
    context.close()
