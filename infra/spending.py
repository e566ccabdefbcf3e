"""The day's render spend: every render attempt's cost, added to a counter per UTC day
(infra.counters) as its usage event is recorded, so the site can refuse new renders
once the day's cap is reached (the spend breaker) without asking the usage warehouse.

The counter holds micro-dollars, whole numbers, so a cap compares exactly. When an
attempt's cost carries the day across the cap, one log line says so: its message
starts with BREAKER_TRIPPED, which a log-based metric counts and an alert watches
(terraform/modules/animated_books/monitoring.tf).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from infra.bootstrap import Adapters
from infra.counters import Counters
from infra.domain.usage import UsageEvent

log = logging.getLogger(__name__)

BREAKER_TRIPPED = "spend breaker tripped"
MICRO_USD = 1_000_000


def micro_usd(usd: float) -> int:
    return round(usd * MICRO_USD)


def spend_key(day: date) -> str:
    return f"spend:{day.isoformat()}"


def day_ends(moment: datetime) -> datetime:
    """The next 00:00 UTC: when the day's quotas and spend start again."""
    day = moment.astimezone(UTC).date()
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def spent(counters: Counters, moment: datetime) -> int:
    """The render spend so far on moment's UTC day, in micro-dollars."""
    return counters.value(spend_key(moment.astimezone(UTC).date()))


def record_render_attempt(adapters: Adapters, event: UsageEvent) -> None:
    """Records a render attempt's usage event and adds its cost to the day's spend.
    Never raises: like the usage event, the spend must not fail the job that made it."""
    adapters.usage.record(event)
    amount = micro_usd(event.cost_usd)
    if amount <= 0:
        return
    try:
        # Kept a day past its own, so a render finishing just after midnight finds it.
        total = adapters.counters.add(
            spend_key(event.event_ts.astimezone(UTC).date()), amount, day_ends(event.event_ts) + timedelta(days=1)
        )
    except Exception:  # the cost is in the usage event all the same
        log.exception("could not add render %s's cost to today's spend", event.render_id)
        return
    cap = adapters.settings.daily_spend_cap_usd
    if cap is not None and total - amount < micro_usd(cap) <= total:
        log.error(
            "%s: today's render spend reached %.2f USD, the daily cap of %.2f USD; new renders are refused "
            "until 00:00 UTC (admins exempt), queued ones are still made",
            BREAKER_TRIPPED,
            total / MICRO_USD,
            cap,
        )
