"""A render job started by the local worker dies with it (standard library only, so the
job can call it before its slow imports)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

WORKER_PID_VARIABLE = "ANIMBOOKS_WORKER_PID"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_worker() -> None:
    """Called first thing by a render job the local worker started: the kernel kills it
    when the worker's process dies, and it exits at once if the worker is already gone."""
    worker = os.environ.get(WORKER_PID_VARIABLE)
    if not worker or not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(worker):  # the worker died before the signal was armed
        os._exit(1)
