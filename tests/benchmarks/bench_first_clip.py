"""A person's first clip (`make bench`): the time from the first page to a clip that plays,
in Chromium, as a new visitor with the defaults (the site as `make run` serves it, the
local worker, the tiny model unless weights are in the data folder).

Each step is timed from the first page's request: the scene sent, the questions skipped,
the storyboard shown, the render started, the clip playable (the video element has its
first frames). Writes bench-results/first_clip.json.

    python tests/benchmarks/bench_first_clip.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.benchmarks.report import report  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.site import running_site  # noqa: E402

SCENE = "Raskolnikov crosses the Neva bridge at dusk, wind over the water."
STEPS = ("first_page", "questions", "storyboard", "render_page", "playable")


def one_visit(browser, base: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    marks: dict[str, float] = {}
    start = time.perf_counter()
    page.goto(base)
    marks["first_page"] = time.perf_counter() - start
    page.fill("#text", SCENE)
    page.fill("#book", "Crime and Punishment")
    page.click("button[type=submit]")
    page.wait_for_selector("#answers, #storyboard li.shot")
    marks["questions"] = time.perf_counter() - start
    if page.locator("#skip").count():
        page.click("#skip")
    page.wait_for_selector("#storyboard li.shot")
    marks["storyboard"] = time.perf_counter() - start
    page.click("#storyboard button[type=submit]")
    page.wait_for_url("**/renders/*")
    marks["render_page"] = time.perf_counter() - start
    page.wait_for_selector("#result:not([hidden])", timeout=600_000)
    while page.evaluate("document.querySelector('#result video').readyState") < 2:
        time.sleep(0.05)
    marks["playable"] = time.perf_counter() - start
    context.close()
    return marks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory() as data,
        running_site(Path(data), environment=dict(os.environ)) as site,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for _ in range(args.runs):
            runs.append(one_visit(browser, site.base))
        browser.close()
    results: dict = {f"median_s.{step}": statistics.median(run[step] for run in runs) for step in STEPS}
    results["runs"] = len(runs)
    results["cpu_count"] = os.cpu_count()
    report("first_clip", results, {})
    return 0


if __name__ == "__main__":
    sys.exit(main())
