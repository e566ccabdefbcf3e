"""Every page of the site, found from the app's URL map (a page added later fails the test
until it is listed here), visited with data behind it (a scene asking its questions, a
storyboard, a finished render, a published and reported clip, the admins' reports and
moderation, sign-in, the error pages):

- in Russian, no English catalogue string shows: no msgid whose Russian differs appears
  in the page's text or in the words its attributes give (placeholders, titles, labels);
- axe-core finds no violations, in English and in Russian, on a desktop (1280x800) and on
  a phone (390x844). axe runs in a context with bypass_csp, the only way to inject it past
  the site's CSP; the pages' own script runs as ever.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from frontend_service import create_app
from infra.bootstrap import bootstrap
from infra.settings import Settings
from tests.browser.conftest import ARTIFACTS, _missing
from tests.conftest import ADMIN_EMAIL, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "ru")
OWNER_EMAIL = "owner@example.com"
CATALOGUE = ROOT / "frontend_service/translations/ru/LC_MESSAGES/messages.po"

# GET routes that are not pages a person reads, and why.
NOT_PAGES = {
    "static": "the script and the style sheet",
    "renders.file": "a clip's video, poster or preview",
    "renders.download": "the clip as a download",
    "reports.view_csv": "a CSV file",
    "accounts.google_start": "a redirect to Google (not offered with make run)",
    "accounts.google_callback": "Google's answer (not offered with make run)",
    "health.healthz": "a health check for the platform",
    "health.readyz": "a readiness check for the platform",
    "metrics": "Prometheus metrics",
}


def page_endpoints() -> set[str]:
    app = create_app({"TESTING": True, "START_WORKER": False}, bootstrap(Settings(data_dir=Path(tempfile.mkdtemp()))))
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and not rule.rule.startswith("/api/")
    }


def axe_source() -> str:
    found = sorted((ROOT / ".axe").glob("axe-core-*.min.js"))
    if not found:
        _missing("axe-core is not in .axe/ (make axe, which make test runs, fetches it from npm)")
    return found[-1].read_text()


# ---- the data behind the pages ----------------------------------------------------------


def api(context, base: str, method: str, path: str, body: dict | None = None) -> dict:
    token = context.request.get(f"{base}/api/session").json()["csrf_token"]
    response = context.request.fetch(f"{base}{path}", method=method, headers={"X-CSRFToken": token}, data=body)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.text() else {}


def sign_in(context, base: str, email: str) -> None:
    page = context.new_page()
    page.goto(f"{base}/signin")
    page.get_by_label("Email").fill(email)
    page.locator("form[action='/signin/local'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/signin" not in url)
    page.close()


def wait_for_render(context, base: str, render_id: str, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while (state := api(context, base, "GET", f"/api/renders/{render_id}")["state"]) != "succeeded":
        assert state not in ("failed", "cancelled"), state
        assert time.monotonic() < deadline, "the render did not finish"
        time.sleep(1)


@pytest.fixture(scope="module")
def site(browser, live_server, tmp_path_factory):
    """An owner with a scene asking questions, a storyboard and a finished, published clip;
    an admin who reported it (so moderation has it); each person's cookies to reuse."""
    folder = tmp_path_factory.mktemp("people")
    owner = browser.new_context()
    sign_in(owner, live_server, OWNER_EMAIL)
    asking = api(
        owner,
        live_server,
        "POST",
        "/api/scenes",
        {"text": "Раскольников переходит Неву в сумерках.", "book": "Преступление и наказание"},
    )
    assert asking["state"] == "asking", "the offline engine asks questions about this scene"
    scene = api(owner, live_server, "POST", "/api/scenes", {"text": "Смотритель маяка поднимается по лестнице в бурю."})
    api(owner, live_server, "POST", f"/api/scenes/{scene['id']}/finish")
    storyboard = {
        "title": "Маяк в бурю",
        "book": "Маяк",
        "author": "Вулф",
        "style": "watercolour",
        "negative_prompt": "blurry",
        "seed": 7,
        "shots": [
            {"start_s": 0, "prompt": "a lighthouse on a rock at night, waves", "camera": "wide"},
            {"start_s": 7, "prompt": "a keeper climbs a spiral staircase with a lamp", "camera": None},
        ],
    }
    api(owner, live_server, "PUT", f"/api/scenes/{scene['id']}/storyboard", storyboard)
    render = api(owner, live_server, "POST", f"/api/scenes/{scene['id']}/renders", {"preset": "draft"})
    wait_for_render(owner, live_server, render["render_id"])
    api(owner, live_server, "POST", f"/api/renders/{render['render_id']}/publish", {"display_name": "Вирджиния"})
    book = api(
        owner,
        live_server,
        "POST",
        "/api/books",
        {"title": "Маяк", "author": "Вулф", "bible": {"characters": [{"name": "keeper", "look": "old man"}]}},
    )
    api(
        owner,
        live_server,
        "POST",
        f"/api/books/{book['id']}/scenes",
        {"text": "Смотритель зажигает лампу.", "chapter": "I"},
    )
    admin = browser.new_context()
    sign_in(admin, live_server, ADMIN_EMAIL)
    api(admin, live_server, "POST", f"/api/renders/{render['render_id']}/report", {"reason": "проверка"})
    # A plan, the owner on it: the plans page lists both, the editor offers 30 s.
    api(admin, live_server, "PUT", "/api/plans/studio", {"clip_seconds": [15, 30], "daily_renders": 50})
    api(admin, live_server, "PUT", f"/api/plans/accounts/local:{OWNER_EMAIL}", {"plan": "studio"})
    states = {}
    for name, context in (("owner", owner), ("admin", admin)):
        states[name] = str(folder / f"{name}.json")
        context.storage_state(path=states[name])
        context.close()
    return {
        "base": live_server,
        "states": states,
        "asking": asking["id"],
        "scene": scene["id"],
        "render": render["render_id"],
        "book": book["id"],
    }


def pages(site) -> dict[str, tuple[str, str]]:
    """Each page's endpoint: who looks (owner, admin, anyone) and its address."""
    return {
        "scenes.new_scene": ("owner", "/"),
        "scenes.scene": ("owner", f"/scenes/{site['asking']}"),
        "scenes.scene#storyboard": ("owner", f"/scenes/{site['scene']}"),
        "renders.page": ("owner", f"/renders/{site['render']}"),
        "renders.index": ("owner", "/renders"),
        "books.index": ("owner", "/books"),
        "books.page": ("owner", f"/books/{site['book']}"),
        "gallery.index": ("anyone", "/gallery"),
        "gallery.index#empty search": ("anyone", "/gallery?q=nothing+like+this"),
        "gallery.clip": ("admin", f"/gallery/{site['render']}"),
        "gallery.clip#owner": ("owner", f"/gallery/{site['render']}"),
        "gallery.clip#anyone": ("anyone", f"/gallery/{site['render']}"),
        "reports.index": ("admin", "/reports"),
        "moderation.index": ("admin", "/moderation"),
        "plans.index": ("admin", "/plans"),
        "accounts.signin_page": ("anyone", "/signin"),
        "accounts.signin_page#signed in": ("owner", "/signin"),
        "error#404": ("anyone", "/no-such-page"),
        "error#403": ("anyone", "/moderation"),
    }


def test_every_page_is_listed():
    listed = {name.split("#")[0] for name in pages({"asking": "", "scene": "", "render": "", "book": ""})}
    assert page_endpoints() - set(NOT_PAGES) == listed - {"error"}


# ---- what a page says ---------------------------------------------------------------------

# Every text node outside scripts and templates, and the words attributes give.
PAGE_WORDS = """() => {
  const parts = [];
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest("script, style, template, title")) parts.push(node.textContent);
  }
  parts.push(document.title);
  for (const element of document.querySelectorAll("[placeholder], [title], [aria-label], [alt]")) {
    for (const name of ["placeholder", "title", "aria-label", "alt"]) {
      if (element.hasAttribute(name)) parts.push(element.getAttribute(name));
    }
  }
  for (const element of document.querySelectorAll("input[type=submit], input[type=button]")) parts.push(element.value);
  return parts.join("\\n");
}"""

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}|\$?%\([^)]*\)\.\d+f")


def english_patterns() -> list[tuple[str, re.Pattern]]:
    """A pattern per English catalogue string whose Russian differs: its fixed words, the
    placeholders anything."""
    with CATALOGUE.open("rb") as file:
        catalogue = read_po(file)
    patterns = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for english in ids:
            if english in strings:
                continue
            pieces = [re.escape(piece) for piece in PLACEHOLDER.split(english)]
            body = r"[\s\S]+?".join(piece.replace(r"\ ", r"\s+") for piece in pieces)
            start = r"\b" if re.match(r"\w", english) else ""
            end = r"\b" if re.search(r"\w$", english) else ""
            patterns.append((english, re.compile(start + body + end)))
    return patterns


def english_left(text: str, patterns) -> list[str]:
    return sorted({english for english, pattern in patterns if pattern.search(text)})


def run_axe(page, source: str) -> list[dict]:
    page.add_script_tag(content=source)
    # Every rule axe runs by default, and the experimental one the issue met: a control's name
    # must hold its visible words (WCAG 2.5.3).
    options = "{resultTypes: ['violations'], rules: {'label-content-name-mismatch': {enabled: true}}}"
    result = page.evaluate(f"async () => (await axe.run(document, {options})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
    ]


def test_every_page_in_both_languages_on_a_desktop_and_a_phone(browser, site):
    source = axe_source()
    patterns = english_patterns()
    assert len(patterns) > 200  # the catalogue was read
    base = site["base"]
    results: dict[str, dict[str, list]] = {}
    english_found: dict[str, list[str]] = {}
    for viewport_name, viewport in VIEWPORTS.items():
        for language in LANGUAGES:
            contexts = {
                who: browser.new_context(
                    viewport=viewport,
                    bypass_csp=True,
                    storage_state=site["states"].get(who),
                )
                for who in ("owner", "admin", "anyone")
            }
            for context in contexts.values():  # the language, chosen with the switch, stays in the session
                context.request.get(f"{base}/?lang={language}")
            for name, (who, path) in pages(site).items():
                page = contexts[who].new_page()
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                key = f"{name} [{language}, {viewport_name}]"
                results[key] = {"violations": run_axe(page, source)}
                if language == "ru":
                    left = english_left(page.evaluate(PAGE_WORDS), patterns)
                    if left:
                        english_found[key] = left
                page.close()
            for context in contexts.values():
                context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    violations = {key: result["violations"] for key, result in results.items() if result["violations"]}
    for key, found in violations.items():
        print(f"{key}:")
        for violation in found:
            print(f"  {violation['id']} ({violation['impact']}): {violation['help']} at {violation['nodes']}")
    for key, found in english_found.items():
        print(f"{key}: English left: {found}")
    assert english_found == {}, "English catalogue strings on Russian pages"
    assert violations == {}, "axe-core found violations"
    assert len(results) == len(pages(site)) * len(VIEWPORTS) * len(LANGUAGES)
