"""The local worker: the embedded twin of Pub/Sub, the trigger and the Cloud Run job.

It claims one render request at a time from the SQLite queue and runs
`python -m animate_job run RENDER_ID` as a subprocess, so a crash of the renderer
never takes the website down and the web process never imports torch. Only one
worker runs per data folder (a file lock); every process of the site waits in the
wings and takes over when the lock's holder goes (a gunicorn reload or a crash).

One render, one run, whatever dies: the job is told the worker's pid and dies with the
worker (the kernel's parent-death signal, infra.job_lifeline); a worker that starts
finds what a dead one left claimed, kills any job of it still alive, counts the
interrupted attempt (its usage too) and queues the render again, or fails it with a
reason once it has used its attempts. The records fence each attempt (infra.records),
so even a job that escaped all this could not overwrite a newer attempt's work.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TextIO

from infra.bootstrap import Adapters
from infra.domain import failures
from infra.domain.ids import now
from infra.domain.render import FINISHED
from infra.domain.usage import render_attempt_event
from infra.job_lifeline import WORKER_PID_VARIABLE
from infra.queue.sqlite import Delivery, SqliteRenderQueue
from infra.spending import record_render_attempt

log = logging.getLogger(__name__)

RENDER_COMMAND = [sys.executable, "-m", "animate_job", "run"]
ATTEMPT_VARIABLE = "ANIMBOOKS_RENDER_ATTEMPT"


class LocalWorker:
    def __init__(
        self,
        adapters: Adapters,
        queue: SqliteRenderQueue,
        command: list[str] | None = None,
        poll_s: float = 0.5,
    ):
        self._adapters = adapters
        self._queue = queue
        self._command = command or RENDER_COMMAND
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_file: TextIO | None = None

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
        try:
            self.recover()
        except BaseException:
            handle.close()  # let go: this process, or another, tries again
            raise
        self._lock_file = handle
        return True

    def recover(self) -> None:
        """Ends what a dead worker left claimed: each such attempt was interrupted."""
        for delivery in self._queue.recover():
            if delivery.claimed_by:
                _kill_leftover_job(delivery.claimed_by, delivery.render_id)
            self._settle(delivery, failures.SITE_RESTARTED)

    def run_once(self) -> bool:
        """Runs one queued render to its end; False when nothing was waiting."""
        delivery = self._queue.claim()
        if delivery is None:
            return False
        log.info("render %s: attempt %d", delivery.render_id, delivery.attempt)
        environment = {
            **os.environ,
            ATTEMPT_VARIABLE: str(delivery.attempt),
            WORKER_PID_VARIABLE: str(os.getpid()),
            "ANIMBOOKS_DATA_DIR": str(self._adapters.settings.data_dir),
        }
        job = subprocess.Popen(
            [*self._command, delivery.render_id],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._queue.mark_claimed_by(delivery.render_id, job.pid)
        _, stderr = job.communicate()
        self._settle(delivery, _reason(job.returncode, stderr))
        return True

    def start(self) -> None:
        """Runs the worker in a background thread: at once if this process wins the lock,
        else as soon as the process holding it goes."""
        self._thread = threading.Thread(target=self._standby, name="local-render-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout_s)
        if self._lock_file:
            self._lock_file.close()
            self._lock_file = None

    @property
    def active(self) -> bool:
        return self._lock_file is not None

    def _standby(self) -> None:
        while not self._stop.is_set():
            try:
                if self.acquire():
                    log.info("this process runs the local render worker")
                    self._loop()
                    return
            except Exception:  # the records were busy or broken: keep trying, never die silently
                log.exception("the local render worker could not start; trying again")
            self._stop.wait(1.0)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the worker must outlive any one render's trouble
                log.exception("the local worker failed to run a render")
                busy = False
            if not busy:
                self._stop.wait(self._poll_s)

    def _settle(self, delivery: Delivery, reason: str) -> None:
        """Settles a delivery whose job has ended, however it ended."""
        records, queue = self._adapters.records, self._queue
        render = records.get_render(delivery.render_id)
        last_attempt = delivery.attempt >= self._adapters.settings.max_attempts
        if render is None or render.state in FINISHED:
            queue.acknowledge(delivery.render_id)
        elif render.state == "running" and render.attempts == delivery.attempt and render.runner:
            # The job died holding the render, so it could not record its own usage.
            started = render.started_at or now()
            ran_s = ((render.progress_at or started) - started).total_seconds()
            record_render_attempt(self._adapters, render_attempt_event(render, ran_s, "interrupted", None))
            if last_attempt:
                gave_up = failures.gave_up(reason, delivery.attempt)
                records.mark_failed(delivery.render_id, gave_up, runner=render.runner)
                queue.acknowledge(delivery.render_id)
            else:
                records.requeue(delivery.render_id, note=reason, runner=render.runner)
                queue.release(delivery.render_id)
        elif render.state == "queued":  # the job queued it again itself, or died before starting it
            if last_attempt:
                records.mark_failed(delivery.render_id, failures.gave_up(reason, delivery.attempt))
                queue.acknowledge(delivery.render_id)
            else:
                queue.release(delivery.render_id)
        else:  # another attempt holds it (only on Google Cloud, where deliveries overlap)
            queue.acknowledge(delivery.render_id)


def _kill_leftover_job(pid: int, render_id: str) -> None:
    """Kills a job a dead worker started, if it is still alive (and is that job)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return  # gone already
    if render_id.encode() in command:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            log.warning("killed render job %d of render %s, left by a dead worker", pid, render_id)


def _reason(returncode: int, stderr: str) -> str:
    lines = [line for line in (stderr or "").splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if last.startswith("{"):  # a JSON log line: its message is the reason
        with contextlib.suppress(ValueError):
            last = json.loads(last).get("message", last)
    return failures.process_stopped(returncode, last)
