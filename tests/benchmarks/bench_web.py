"""Web benchmarks (`make bench`): figures, never assertions.

- cold start: a fresh process imports the app, builds it and answers its first
  request (median of several processes), and proof that torch stayed out of it;
- GET /api/renders/<id> under gunicorn (as `make run` serves it) with wrk on
  loopback: requests per second and latency percentiles.

Writes bench-results/web.json and prints a table.
"""

from __future__ import annotations

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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.benchmarks.report import report  # noqa: E402

TARGETS = {"cold_start_s": "<= 0.8", "renders_get_rps": ">= 500", "renders_get_p99_ms": "<= 50"}

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


def bench_cold_start(runs: int = 7) -> dict:
    times, torch_loaded = [], False
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", COLD_START], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.split()
        times.append(float(output[0]))
        torch_loaded |= output[1] == "True"
    return {
        "cold_start_s": statistics.median(times),
        "cold_start_runs_s": [round(t, 3) for t in times],
        "cold_start_imported_torch": torch_loaded,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_render_status(seconds: int = 15) -> dict:
    if not shutil.which("wrk"):
        return {"renders_get": "skipped: wrk is not installed (apt-get install wrk)"}
    data, port = Path(tempfile.mkdtemp()), _free_port()
    environment = {**os.environ, "ANIMBOOKS_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--config",
            "python:frontend_service.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "frontend_service:create_app()",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        for _ in range(100):
            try:
                token = json.loads(opener.open(f"{base}/api/session").read())["csrf_token"]
                break
            except OSError:
                time.sleep(0.1)

        def call(method, path, body=None):
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
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c16",
                f"-d{seconds}s",
                "--latency",
                "-H",
                f"Cookie: {cookie}",
                f"{base}/api/renders/{render_id}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", result, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result)
    return {
        "renders_get_rps": float(_found(r"Requests/sec:\s+([\d.]+)", result)[1]),
        "renders_get_p50_ms": percentiles["50"],
        "renders_get_p99_ms": percentiles["99"],
        "renders_get_non_2xx": int(errors[1]) if errors else 0,
        "renders_get_setup": "gunicorn 2 workers x 4 threads; wrk 2 threads, 16 connections, "
        f"{seconds} s, on the same 2 cores",
    }


def _found(pattern: str, text: str) -> re.Match[str]:
    found = re.search(pattern, text)
    if found is None:
        raise ValueError(f"wrk's report has no {pattern!r}")
    return found


def _ms(value: str) -> float:
    number, unit = _found(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    results = {"machine": f"{os.cpu_count()} cores"}
    results |= bench_cold_start()
    results |= bench_render_status()
    report("web", results, TARGETS, digits=4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
