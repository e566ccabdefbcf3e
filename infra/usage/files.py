"""Usage events appended to files: the local sink, safe with many writing processes.

Every process (each gunicorn worker, each render job) appends to a file of its own,
`usage/events-<day>-<pid>-<random>.jsonl`, one JSON line per event written with one
`write` to a file opened for appending. No process waits for another and no lock is
shared, so a process killed in the middle of a write loses at most that line and never
anyone else's. The files are the source of truth; DuckDB only reads them
(infra.usage.warehouse), so the reports can always be rebuilt from them.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from infra.domain.usage import UsageEvent
from infra.usage import UsageSink

PATTERN = "events-*.jsonl"


class UsageFiles(UsageSink):
    def __init__(self, folder: Path, retry_every_s: float = 2.0):
        super().__init__(retry_every_s)
        self.folder = Path(folder)
        self._file_lock = threading.Lock()
        self._descriptor: int | None = None
        self._opened_as: tuple[int, str] | None = None  # (pid, day): a fork or a new day opens a new file

    def _send(self, event: UsageEvent) -> None:
        line = (event.model_dump_json() + "\n").encode()
        with self._file_lock:
            descriptor = self._file()
            try:
                written = os.write(descriptor, line)
            except OSError:
                self._close()  # a file that failed a write is never appended to again
                raise
            if written != len(line):  # a short write (disk full): this file's tail is now broken
                self._close()
                raise OSError(f"wrote {written} of {len(line)} bytes of a usage event")

    def _file(self) -> int:
        day = datetime.now(UTC).strftime("%Y%m%d")
        key = (os.getpid(), day)
        if self._descriptor is None or self._opened_as != key:
            self._close()
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"events-{day}-{os.getpid()}-{secrets.token_hex(4)}.jsonl"
            self._descriptor = os.open(self.folder / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._opened_as = key
        return self._descriptor

    def _close(self) -> None:
        if self._descriptor is not None and self._opened_as and self._opened_as[0] == os.getpid():
            os.close(self._descriptor)
        self._descriptor, self._opened_as = None, None

    def _check_store(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".ready-"):
            pass  # the folder takes new files

    def files(self) -> list[Path]:
        return sorted(self.folder.glob(PATTERN))
