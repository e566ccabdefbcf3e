"""The local worker: the embedded twin of Pub/Sub, the trigger and the Cloud Run job.

It claims one render request at a time from the SQLite queue and runs
`python -m animate_job run RENDER_ID` as a subprocess, so a crash of the renderer
never takes the website down and the web process never imports torch. Only one
worker runs per data folder (a file lock), so it may safely release every claimed
request when it starts: those were left by a worker that died.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from infra.bootstrap import Adapters
from infra.records import FINISHED

log = logging.getLogger(__name__)

RENDER_COMMAND = [sys.executable, "-m", "animate_job", "run"]
ATTEMPT_VARIABLE = "ANIMBOOKS_RENDER_ATTEMPT"


class LocalWorker:
    def __init__(self, adapters: Adapters, command: list[str] | None = None, poll_s: float = 0.5):
        self._adapters = adapters
        self._command = command or RENDER_COMMAND
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_file = None

    def acquire(self) -> bool:
        """Takes the data folder's worker lock; False when another process holds it."""
        path = Path(self._adapters.settings.data_dir) / "worker.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "w")  # noqa: SIM115  (held open for the worker's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock_file = handle
        self.recover()
        return True

    def recover(self) -> None:
        """Puts back what a dead worker left claimed, and its renders to queued."""
        for render_id in self._adapters.queue.recover():
            if self._adapters.records.requeue(render_id, note="the worker restarted during this render"):
                log.warning("render %s re-queued after a worker restart", render_id)

    def run_once(self) -> bool:
        """Runs one queued render to its end; False when nothing was waiting."""
        queue, records = self._adapters.queue, self._adapters.records
        delivery = queue.claim()
        if delivery is None:
            return False
        render_id = delivery.render_id
        log.info("render %s: attempt %d", render_id, delivery.attempt)
        environment = {
            **os.environ,
            ATTEMPT_VARIABLE: str(delivery.attempt),
            "ANIMBOOKS_DATA_DIR": str(self._adapters.settings.data_dir),
        }
        result = subprocess.run(
            [*self._command, render_id], env=environment, capture_output=True, text=True, check=False
        )
        render = records.get_render(render_id)
        if render is None or render.state in FINISHED:
            queue.acknowledge(render_id)
        elif delivery.attempt >= self._adapters.settings.max_attempts:
            records.mark_failed(render_id, _reason(result))
            queue.acknowledge(render_id)
        else:
            records.requeue(render_id, note=_reason(result))
            queue.release(render_id)
        return True

    def start(self) -> bool:
        """Runs in a background thread if this process won the lock."""
        if not self.acquire():
            return False
        self._thread = threading.Thread(target=self._loop, name="local-render-worker", daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout_s)
        if self._lock_file:
            self._lock_file.close()
            self._lock_file = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the worker must outlive any one render's trouble
                log.exception("the local worker failed to run a render")
                busy = False
            if not busy:
                self._stop.wait(self._poll_s)


def _reason(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in (result.stderr or "").splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if last.startswith("{"):  # a JSON log line: its message is the reason
        with contextlib.suppress(ValueError):
            last = json.loads(last).get("message", last)
    detail = f": {last}" if last else ""
    return f"the render process stopped unexpectedly (exit status {result.returncode}){detail}"
