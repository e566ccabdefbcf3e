"""The site as `make run` serves it (gunicorn, its config, the local worker), in a
process group of its own, and a script's client for it: for the tests that kill
things and for the load benchmark."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Site:
    process: subprocess.Popen
    base: str
    data_dir: Path

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("the site did not become ready")
            time.sleep(0.2)

    def signal(self, number: int) -> None:
        os.kill(self.process.pid, number)

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def gunicorn_workers(self) -> list[int]:
        """The pids of gunicorn's worker processes (the master's children that are not render jobs)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children if b"animate_job" not in _command(int(pid))]


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def render_jobs(render_id: str | None = None) -> list[int]:
    """The live render job processes on this machine (`python -m animate_job run`), of one
    render or all. A job's own child between fork and exec (ffmpeg, about to start) shows
    the job's command line too; it is not another job."""
    jobs = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        parts = _command(int(entry.name)).split(b"\0")
        is_job = b"animate_job" in parts and b"run" in parts
        if is_job and alive(int(entry.name)) and (render_id is None or render_id.encode() in parts):
            jobs.add(int(entry.name))
    return sorted(pid for pid in jobs if _parent_or_none(pid) not in jobs)


def _parent_or_none(pid: int) -> int | None:
    try:
        return parent_of(pid)
    except (OSError, IndexError, ValueError):
        return None


def alive(pid: int) -> bool:
    return _state(pid) not in ("X", "Z")  # a zombie has died; only its parent has not reaped it


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


@contextlib.contextmanager
def running_site(
    data_dir: Path, workers: int = 2, threads: int = 4, environment: dict[str, str] | None = None
) -> Iterator[Site]:
    """gunicorn with the site's own config over `data_dir`, as `make run` starts it, in the
    given environment (by default this process's); yields it once /readyz answers."""
    env = {
        **(os.environ if environment is None else environment),
        "ANIMBOOKS_DATA_DIR": str(data_dir),
        "ANIMBOOKS_DEVICE": "cpu",
        "HF_HUB_OFFLINE": "1",
    }
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--config",
            "python:frontend_service.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "frontend_service:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the tests kill it whole
    )
    site = Site(process, f"http://127.0.0.1:{port}", Path(data_dir))
    try:
        site.wait_ready()
        yield site
    finally:
        site.kill_group()


# The environment for a site that many simulated people reach as if through Cloud Run's
# front end: one trusted proxy, so each Person's address (sent as X-Forwarded-For) is
# the address the site counts quotas and rate limits by.
BEHIND_ONE_PROXY = {"ANIMBOOKS_TRUSTED_PROXIES": "1"}


class Person:
    """One person's browser as a script: a cookie jar and the CSRF header on every change;
    with an address, arriving from it through a trusted proxy (BEHIND_ONE_PROXY)."""

    def __init__(self, base: str, address: str | None = None):
        self.base = base
        self.forwarded = {"X-Forwarded-For": address} if address else {}
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = self.call("GET", "/api/session")[1]["csrf_token"]

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """(status, JSON body or bytes) without raising on 4xx/5xx."""
        data = None if method in ("GET", "HEAD") else json.dumps(body or {}).encode()
        request = urllib.request.Request(
            f"{self.base}{path}",
            method=method,
            data=data,
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": getattr(self, "token", ""),
                **self.forwarded,
                **(headers or {}),
            },
        )
        try:
            with self._opener.open(request, timeout=120) as response:
                return response.status, _decoded(response)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _decoded(error)


def _decoded(response) -> object:
    data = response.read()
    if response.headers.get_content_type() == "application/json":
        return json.loads(data)
    return data
