"""A live server (gunicorn, as `make run` starts it) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ADMIN_EMAIL, ROOT
from tests.site import running_site

CHROMIUM = "/usr/bin/chromium"
# Chromium on a machine with no network: no background connections, no sandbox (root).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser tests (.ci/run installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live_data(tmp_path_factory):
    """The live server's data folder: a test may read and change its records (SQLite, which
    several processes share) as the site's own workers would."""
    data = tmp_path_factory.mktemp("live-data")
    yield data
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def live_server(live_data):
    with running_site(live_data, environment=os.environ | {"ANIMBOOKS_ADMIN_EMAILS": ADMIN_EMAIL}) as site:
        yield site.base


def _watched_page(browser, request, name: str):
    """A page in a context of its own (its own cookies: its own person) whose script
    errors, missing assets and server errors fail the test."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"script error: {error}"))

    # A 4xx from the API is an answer the page shows; a 404 (a missing asset) or any 5xx is a fault.
    def on_response(response) -> None:
        if response.status == 404 or response.status >= 500:
            errors.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}-final.png"), full_page=True)
    context.close()
    assert errors == [], f"the page reported errors: {errors}"


@pytest.fixture
def page(browser, request):
    yield from _watched_page(browser, request, "page")


@pytest.fixture
def other_page(browser, request):
    """A second person's browser."""
    yield from _watched_page(browser, request, "other")
