"""Readiness: can each store be reached now? `/readyz` and the startup checks ask this;
`/healthz` only says the process answers."""

from __future__ import annotations

import logging
from collections.abc import Callable

from infra.bootstrap import Adapters

log = logging.getLogger(__name__)


def problems(adapters: Adapters) -> dict[str, str]:
    """What cannot be reached, by part; empty when everything can."""
    checks: dict[str, Callable[[], None]] = {
        "records": adapters.records.check,
        "queue": adapters.queue.check,
        "storage": adapters.storage.check,
        "usage": adapters.usage.check,
        "counters": adapters.counters.check,
    }
    failing = {}
    for part, check in checks.items():
        try:
            check()
        except Exception as error:  # any failure means not ready; the reason goes to the log and the probe
            failing[part] = f"{type(error).__name__}: {error}"[:300]
            log.warning("not ready: %s: %s", part, failing[part])
    return failing
