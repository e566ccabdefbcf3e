"""Web benchmarks (`make bench`): figures, never assertions. Each is measured beside a
yardstick, a minimal Flask app (bare_flask.py) returning the same bytes, in interleaved
runs on the same machine at the same time, and the ratio printed:

- the status request, GET /api/renders/<id>, the request every waiting page makes: under
  gunicorn with the site's settings (frontend_service/gunicorn_conf.py), loaded by wrk
  (2 threads, 8 connections, on the same 2 cores), requests per second, the site's over
  the bare app's; also the site's 304 answer to If-None-Match, and in-process microseconds
  per request through Flask's test client;
- the status request's CPU time in gunicorn's workers, per request served, the bare app's
  over the site's (`status_cpu_ratio`): how many status requests the same cores serve.
  Each run's spread of the 8 connections over the workers is printed, and both ratios are
  taken between runs spread alike (over every worker, or all on one). A run started while
  a worker still booted gave all 8 connections to the other, which then served at about
  40% of the rate, whichever app it was: the ratio of one such run against a spread one
  read 1.05 where it is 0.45. So the load starts a second after every worker is forked,
  and a run that left a worker without connections is run again (three tries);
- cold start: a fresh process imports the app, builds it and answers its first request
  (and proof that torch stayed out of it); and a fresh gunicorn's time to its first 200.

Medians of interleaved rounds, so a load that comes and goes on a shared machine falls on
both alike. Writes bench-results/web.json and prints a table.

    python tests/benchmarks/bench_web.py [--rounds 5] [--seconds 4]
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from frontend_service import gunicorn_conf  # noqa: E402
from tests.benchmarks.report import report  # noqa: E402

TARGETS = {
    "status_cpu_ratio": ">= 0.6",
    "status_rps_ratio": ">= 0.6",
    "renders_get_p99_ms": "<= 50",
    "cold_start_ratio": "<= 2",
    "cold_start_s": "<= 0.8",
}

COLD_START = """
import sys, tempfile, time
started = time.perf_counter()
from pathlib import Path
from frontend_service import create_app
from infra.bootstrap import bootstrap
from infra.settings import Settings
app = create_app({"START_WORKER": False}, bootstrap(Settings(data_dir=Path(tempfile.mkdtemp()))))
assert app.test_client().get("/").status_code == 200
print(time.perf_counter() - started, "torch" in sys.modules)
"""

BARE_COLD_START = """
import sys, time
started = time.perf_counter()
from tests.benchmarks.bare_flask import app
assert app.test_client().get("/").status_code == 200
print(time.perf_counter() - started, "torch" in sys.modules)
"""

IN_PROCESS = """
import json, os, sys, tempfile, time
from pathlib import Path
which, count = sys.argv[1], int(sys.argv[2])
if which == "site":
    from frontend_service import create_app
    from infra.bootstrap import bootstrap
    from infra.settings import Settings
    app = create_app({"START_WORKER": False}, bootstrap(Settings(data_dir=Path(os.environ["ANIMBOOKS_DATA_DIR"]))))
else:
    from tests.benchmarks.bare_flask import app
client = app.test_client()
client.set_cookie("session", os.environ["BENCH_SESSION"])
url = os.environ["BENCH_URL"]
assert client.get(url).status_code == 200
for _ in range(count // 10):
    client.get(url)
started = time.perf_counter()
for _ in range(count):
    client.get(url)
print((time.perf_counter() - started) / count * 1e6)
"""

GUNICORN_SETTINGS = [
    "--workers",
    str(gunicorn_conf.workers),
    "--threads",
    str(gunicorn_conf.threads),
    "--graceful-timeout",
    str(gunicorn_conf.graceful_timeout),
]


def _environment(data: Path, body: Path | None = None) -> dict[str, str]:
    environment = {**os.environ, "ANIMBOOKS_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    if body is not None:
        environment["BENCH_BODY_FILE"] = str(body)
    return environment


def _run_child(code: str, *args: str, environment: dict | None = None) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=True, env=environment
    ).stdout.split()


def bench_cold_start(runs: int) -> dict:
    """In a fresh process: import, build, first answer; the site and the bare app in turn."""
    site, bare, torch_loaded = [], [], False
    for _ in range(runs):
        output = _run_child(COLD_START)
        site.append(float(output[0]))
        torch_loaded |= output[1] == "True"
        bare.append(float(_run_child(BARE_COLD_START)[0]))
    return {
        "cold_start_s": statistics.median(site),
        "cold_start_bare_s": statistics.median(bare),
        "cold_start_ratio": statistics.median(site) / statistics.median(bare),
        "cold_start_runs_s": [round(t, 3) for t in site],
        "cold_start_imported_torch": torch_loaded,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn_command(port: int, site: bool) -> list[str]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    common = ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    if site:
        return [gunicorn, "--config", "python:frontend_service.gunicorn_conf", *common, "frontend_service:create_app()"]
    return [gunicorn, *GUNICORN_SETTINGS, *common, "tests.benchmarks.bare_flask:app"]


@contextlib.contextmanager
def _served(site: bool, environment: dict[str, str]) -> Iterator[tuple[str, float, int]]:
    """A gunicorn serving the site (as `make run` does) or the bare app; yields its address,
    the seconds from starting it to its first 200, and its master's process id."""
    port = _free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        _gunicorn_command(port, site),
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (OSError, urllib.error.HTTPError):
                if server.poll() is not None:
                    raise RuntimeError("gunicorn exited before answering") from None
                time.sleep(0.01)
        first_200_s = time.perf_counter() - started
        # Every worker forked (its CPU is counted) and, a second later, most likely booted: a
        # run that starts while one still boots gives it none of the connections (`_spread`).
        while len(_children(server.pid)) < gunicorn_conf.workers:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited while starting its workers")
            time.sleep(0.01)
        time.sleep(1.0)
        yield base, first_200_s, server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _wrk(url: str, seconds: int, headers: list[str], master: int) -> dict:
    """One wrk run against the gunicorn whose master is `master`: its rate and latencies,
    the workers' CPU microseconds per request, and how the connections were spread over
    the workers (connections per worker, sorted; empty where `ss` is missing)."""
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    workers = _children(master)
    cpu_before = _cpu_seconds(workers)
    load = subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True)
    time.sleep(seconds / 2)
    spread = _connections_per_process(int(url.split(":")[2].split("/")[0]), workers)
    result, _ = load.communicate()
    if load.returncode:
        raise RuntimeError(f"wrk failed: {result}")
    cpu = _cpu_seconds(workers) - cpu_before
    requests = int(_found(r"(\d+) requests in", result)[1])
    if not requests:
        raise RuntimeError(f"wrk completed no requests: {result}")
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", result, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result)
    return {
        "rps": float(_found(r"Requests/sec:\s+([\d.]+)", result)[1]),
        "p50_ms": percentiles["50"],
        "p99_ms": percentiles["99"],
        "non_2xx_3xx": int(errors[1]) if errors else 0,
        "cpu_us": cpu / requests * 1e6,
        "spread": spread,
    }


def _spread_run(url: str, seconds: int, headers: list[str], master: int, tries: int = 3) -> dict:
    """A wrk run whose connections went to every worker, run again (up to `tries` in all)
    while one worker got none; the last run whatever its spread."""
    run = _wrk(url, seconds, headers, master)
    for _ in range(tries - 1):
        if _spread_over_all(run) is not False:
            break
        run = _wrk(url, seconds, headers, master)
    return run


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (gunicorn's workers), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                children.append(int(stat.parent.name))
    return children


def _cpu_seconds(processes: list[int]) -> float:
    """User and system CPU seconds the processes have used so far (proc(5): utime, stime);
    a process gone meanwhile (gunicorn replaced a worker) counts nothing."""
    ticks = 0
    for pid in processes:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _connections_per_process(port: int, processes: list[int]) -> list[int]:
    """How many established connections to `port` each of the processes holds, sorted."""
    if not shutil.which("ss"):
        return []
    listing = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True
    ).stdout
    held = [int(pid) for pid in re.findall(r"pid=(\d+)", listing)]
    return sorted(held.count(pid) for pid in processes)


def _a_render(base: str) -> tuple[str, str, bytes, str]:
    """A render started through the API as a person would: its status path, the session
    cookie, the status's bytes and its ETag."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    token = json.loads(opener.open(f"{base}/api/session").read())["csrf_token"]

    def call(method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{base}{path}",
            method=method,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
        )
        return json.loads(opener.open(request).read())

    scene = call("POST", "/api/scenes", {"text": "A lighthouse in a storm at night, waves breaking on rocks."})
    call("POST", f"/api/scenes/{scene['id']}/finish")
    render_id = call("POST", f"/api/scenes/{scene['id']}/renders", {"preset": "draft"})["render_id"]
    path = f"/api/renders/{render_id}"
    deadline = time.monotonic() + 300
    while True:  # the local worker renders it (the tiny model): then its status stays as it is
        with opener.open(f"{base}{path}") as answer:
            body, etag = answer.read(), answer.headers.get("ETag", "")
        if json.loads(body)["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return path, cookie, body, etag


def bench_status(rounds: int, seconds: int) -> dict:
    if not shutil.which("wrk"):
        return {"status": "skipped: wrk is not installed (apt-get install wrk)"}
    data = Path(tempfile.mkdtemp())
    body_file = data / "status.json"
    site_environment = _environment(data)
    figures: dict[str, list] = {"site": [], "bare": [], "site_304": [], "site_start": [], "bare_start": []}
    try:
        with _served(True, site_environment) as (base, _, _):
            path, cookie, body, etag = _a_render(base)
        body_file.write_bytes(body)
        site_headers = [f"Cookie: {cookie}"]
        for _ in range(rounds):
            with _served(True, site_environment) as (base, first_200_s, master):
                figures["site_start"].append(first_200_s)
                figures["site"].append(_spread_run(f"{base}{path}", seconds, site_headers, master))
                if etag:
                    unchanged = [*site_headers, f"If-None-Match: {etag}"]
                    figures["site_304"].append(_spread_run(f"{base}{path}", seconds, unchanged, master))
            with _served(False, _environment(data, body_file)) as (base, first_200_s, master):
                figures["bare_start"].append(first_200_s)
                figures["bare"].append(_spread_run(f"{base}{path}", seconds, site_headers, master))
        in_process: dict[str, list[float]] = {"site": [], "bare": []}
        child_environment = _environment(data, body_file) | {
            "BENCH_SESSION": cookie.removeprefix("session="),
            "BENCH_URL": path,
        }
        for _ in range(rounds):
            for which in in_process:
                in_process[which].append(float(_run_child(IN_PROCESS, which, "2000", environment=child_environment)[0]))
    finally:
        shutil.rmtree(data, ignore_errors=True)

    def median(which: str, key: str) -> float:
        return statistics.median(run[key] for run in figures[which])

    site, bare, between = _alike(figures["site"], figures["bare"])
    site_304, bare_304, between_304 = _alike(figures["site_304"], figures["bare"])
    results = {
        "status_bytes": len(body),
        "status_rps": statistics.median(run["rps"] for run in site),
        "status_bare_rps": statistics.median(run["rps"] for run in bare),
        "status_rps_ratio": statistics.median(run["rps"] for run in site)
        / statistics.median(run["rps"] for run in bare),
        "status_cpu_us": statistics.median(run["cpu_us"] for run in site),
        "status_bare_cpu_us": statistics.median(run["cpu_us"] for run in bare),
        "status_cpu_ratio": statistics.median(run["cpu_us"] for run in bare)
        / statistics.median(run["cpu_us"] for run in site),
        "status_compared": between,
        "status_runs": {which: [_run_summary(run) for run in figures[which]] for which in ("site", "bare")},
        "renders_get_p50_ms": median("site", "p50_ms"),
        "renders_get_p99_ms": median("site", "p99_ms"),
        "status_bare_p99_ms": median("bare", "p99_ms"),
        "status_non_2xx_3xx": sum(run["non_2xx_3xx"] for run in figures["site"]),
        "in_process_us": statistics.median(in_process["site"]),
        "in_process_bare_us": statistics.median(in_process["bare"]),
        "in_process_ratio": statistics.median(in_process["bare"]) / statistics.median(in_process["site"]),
        "first_200_s": statistics.median(figures["site_start"]),
        "first_200_bare_s": statistics.median(figures["bare_start"]),
        "first_200_ratio": statistics.median(figures["site_start"]) / statistics.median(figures["bare_start"]),
        "status_setup": f"gunicorn {gunicorn_conf.workers} workers x {gunicorn_conf.threads} threads (both apps); "
        f"wrk 2 threads, 8 connections, {seconds} s a run, {rounds} interleaved rounds, on the same cores",
    }
    if figures["site_304"]:
        results |= {
            "status_304_rps_ratio": statistics.median(run["rps"] for run in site_304)
            / statistics.median(run["rps"] for run in bare_304),
            "status_304_cpu_ratio": statistics.median(run["cpu_us"] for run in bare_304)
            / statistics.median(run["cpu_us"] for run in site_304),
            "status_304_compared": between_304,
        }
        results["status_runs"]["site_304"] = [_run_summary(run) for run in figures["site_304"]]
    return results


def _spread_over_all(run: dict) -> bool | None:
    """Whether every worker held some of the run's connections (None: not known)."""
    return min(run["spread"]) > 0 if run["spread"] else None


SPREADS = {
    True: "runs over every worker",
    False: "runs on one worker",
    None: "all runs (connections per worker not known)",
}


def _alike(site: list[dict], bare: list[dict]) -> tuple[list[dict], list[dict], str]:
    """The two apps' runs whose connections were spread alike: over every worker where both
    apps have such runs, else all on one; and which those are."""
    for spread in (True, False, None):
        site_runs = [run for run in site if _spread_over_all(run) is spread]
        bare_runs = [run for run in bare if _spread_over_all(run) is spread]
        if site_runs and bare_runs:
            return site_runs, bare_runs, SPREADS[spread]
    return site, bare, "all runs (none spread alike: run more rounds)"


def _run_summary(run: dict) -> str:
    return f"{run['rps']:.0f}/s, {run['cpu_us']:.0f} us CPU a request, connections per worker {run['spread']}"


def _found(pattern: str, text: str) -> re.Match[str]:
    found = re.search(pattern, text)
    if found is None:
        raise ValueError(f"wrk's report has no {pattern!r}")
    return found


def _ms(value: str) -> float:
    number, unit = _found(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    arguments = parser.parse_args()
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    results: dict = {"machine": f"{os.cpu_count()} cores", "load_average_at_start": " ".join(load)}
    results |= bench_cold_start(max(arguments.rounds, 5))
    results |= bench_status(arguments.rounds, arguments.seconds)
    report("web", results, TARGETS, digits=4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
