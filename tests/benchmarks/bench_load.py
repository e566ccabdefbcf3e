"""The load test (`make bench`): N simulated people at once, each running the whole flow
against the site as `make run` serves it (gunicorn, the local worker, the tiny model):
scene, answers, storyboard, render, poll until done, download.

Prints p50 and p99 per step, errors (there must be none) and renders per minute for
N = 5, 20 and 50; writes bench-results/load.json. Renders run one at a time through
the local worker, so the wait for a clip grows with the queue; that is measured, not
a fault.

    python tests/benchmarks/bench_load.py [--people 5 20 50]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.benchmarks.report import report  # noqa: E402
from tests.site import BEHIND_ONE_PROXY, Person, running_site  # noqa: E402

SCENES = [
    ("Raskolnikov crosses the Neva bridge at dusk, wind over the water.", "Crime and Punishment"),
    ("Jane Eyre walks the moor at night in the rain, the house dark behind her.", "Jane Eyre"),
    ("Анна Каренина стоит на перроне в метель, поезд подходит.", "Анна Каренина"),
    ("Frodo looks back at the Shire from a hill at sunrise.", "The Lord of the Rings"),
]
STEPS = ("session", "scene", "answers", "storyboard", "render", "poll", "download")
POLL_EVERY_S = 1.0


class Failure(Exception):
    pass


def one_person(base: str, number: int, timings: dict, errors: list, lock: threading.Lock) -> dict:
    """The whole flow for one person; returns the render's start and finish times."""

    def timed(step: str, call):
        started = time.perf_counter()
        status, body = call()
        with lock:
            timings[step].append(time.perf_counter() - started)
        if status >= 400:
            with lock:
                errors.append(f"{step}: {status} {str(body)[:200]}")
            raise Failure(step)
        return body

    started = time.perf_counter()
    person = Person(base, address=f"10.{number // 250}.{number % 250}.1")  # each from an address of its own
    with lock:
        timings["session"].append(time.perf_counter() - started)
    text, book = SCENES[number % len(SCENES)]
    scene = timed("scene", lambda: person.call("POST", "/api/scenes", {"text": text, "book": book}))
    if scene["state"] == "asking":
        answers = {question["id"]: "at dusk, in cold autumn light" for question in scene["questions"]}
        scene = timed(
            "answers", lambda: person.call("POST", f"/api/scenes/{scene['id']}/answers", {"answers": answers})
        )
    if scene["state"] == "asking":
        scene = timed("answers", lambda: person.call("POST", f"/api/scenes/{scene['id']}/finish"))
    storyboard = dict(scene["storyboard"], title=f"{scene['storyboard']['title']} ({number})")
    timed("storyboard", lambda: person.call("PUT", f"/api/scenes/{scene['id']}/storyboard", storyboard))
    render_id = timed("render", lambda: person.call("POST", f"/api/scenes/{scene['id']}/renders", {"preset": "draft"}))[
        "render_id"
    ]
    render_started = time.monotonic()
    while True:
        status = timed("poll", lambda: person.call("GET", f"/api/renders/{render_id}"))
        if status["state"] in ("succeeded", "failed"):
            break
        time.sleep(POLL_EVERY_S)
    if status["state"] != "succeeded":
        with lock:
            errors.append(f"render: {status['state']} {status.get('error')}")
        raise Failure("render")
    render_finished = time.monotonic()
    timed("download", lambda: person.call("GET", status["download_url"]))
    return {"render_started": render_started, "render_finished": render_finished}


def run(people: int) -> dict:
    timings: dict[str, list[float]] = collections.defaultdict(list)
    errors: list[str] = []
    renders: list[dict] = []
    lock = threading.Lock()
    with (
        tempfile.TemporaryDirectory(prefix="bench-load-") as data,
        running_site(Path(data), environment={**os.environ, **BEHIND_ONE_PROXY}) as site,
    ):

        def person(number: int) -> None:
            try:
                renders.append(one_person(site.base, number, timings, errors, lock))
            except Failure:
                pass
            except Exception as error:  # a connection refused or reset counts as an error too
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")

        started = time.monotonic()
        threads = [threading.Thread(target=person, args=(n,)) for n in range(people)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
    results: dict = {"people": people, "errors": len(errors), "wall_s": round(wall, 1)}
    for step in STEPS:
        values = sorted(timings[step])
        if values:
            results[f"{step}_p50_ms"] = round(statistics.median(values) * 1000, 1)
            results[f"{step}_p99_ms"] = round(values[min(len(values) - 1, int(len(values) * 0.99))] * 1000, 1)
    if renders:
        first = min(r["render_started"] for r in renders)
        last = max(r["render_finished"] for r in renders)
        results["renders"] = len(renders)
        results["renders_per_minute"] = round(len(renders) / (last - first) * 60, 2)
        waits = sorted(r["render_finished"] - r["render_started"] for r in renders)
        results["clip_wait_p50_s"] = round(statistics.median(waits), 1)
        results["clip_wait_max_s"] = round(waits[-1], 1)
    if errors:
        results["first_errors"] = errors[:5]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[5, 20, 50])
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results: dict = {
        "machine": f"{os.cpu_count()} cores",
        "site": "gunicorn 2 workers x 4 threads, local worker, tiny model, draft preset; clients on the same machine",
    }
    for people in args.people:
        for key, value in run(people).items():
            results[f"n{people}.{key}"] = value
    report("load", results, {"errors": "== 0"}, digits=4)
    return 1 if any(results[f"n{n}.errors"] for n in args.people) else 0


if __name__ == "__main__":
    sys.exit(main())
