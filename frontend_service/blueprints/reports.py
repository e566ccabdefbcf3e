"""The reports page: what the service costs and how it is used (admins only: it names
users and what they spent).

On one machine it runs the BigQuery views (infra/bigquery/views) on the local DuckDB
file and draws them; on Google Cloud the same views feed Looker Studio, and the page
links there through the Looker Studio Linking API.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _

from frontend_service import charts, roles, services
from infra.bigquery import view_names
from infra.domain import pricing
from infra.domain.ids import now
from infra.settings import Settings
from infra.usage.reports import UsageReports

bp = roles.guard(Blueprint("reports", __name__, url_prefix="/reports"))  # admins only

DEFAULT_DAYS, MAX_DAYS, TOP_USERS = 30, 366, 10
# The days a period may hold: wide enough for any usage, and far enough from the ends of
# Python's dates that counting days back or on never leaves them.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
SUCCEEDED, FAILED, CANCELLED = "#5b8c5a", "#b3261e", "#8a8f98"
LOOKER_CREATE = "https://lookerstudio.google.com/reporting/create"
# The report's data sources, one per view (docs/looker-studio.md says what each chart draws).
LOOKER_SOURCES = {
    "ds0": "daily_cost",
    "ds1": "render_stats",
    "ds2": "user_daily",
    "ds3": "stage_budget",
    "ds4": "reactions",
    "ds5": "channel_reactions",
    "ds6": "clip_lengths",
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return charts.days_between(self.start, self.end)

    def query(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


class BadPeriod(ValueError):
    pass


def period_from(args) -> Period:
    """The dates asked for, by default the last 30 UTC days."""
    today = now().date()
    try:
        end = date.fromisoformat(args["end"]) if args.get("end") else today
        start = date.fromisoformat(args["start"]) if args.get("start") else None
    except ValueError:
        raise BadPeriod(_("Dates are written as YYYY-MM-DD, for example %(example)s.", example=today)) from None
    if not FIRST_DAY <= end <= LAST_DAY or not FIRST_DAY <= (start or end) <= LAST_DAY:
        raise BadPeriod(_("Choose days from %(first)s to %(last)s.", first=FIRST_DAY, last=LAST_DAY))
    start = start or max(FIRST_DAY, end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise BadPeriod(_("The first day comes after the last; swap them."))
    if (end - start).days >= MAX_DAYS:
        raise BadPeriod(_("Choose at most %(days)d days.", days=MAX_DAYS))
    return Period(start, end)


@bp.get("")
def index():
    settings: Settings = services.adapters().settings
    if settings.mode == "cloud":
        return render_template("reports_cloud.html", looker_url=looker_studio_url(settings))
    try:
        period = period_from(request.args)
    except BadPeriod as error:
        return render_template("reports.html", error=str(error), args=request.args), 400
    views = {name: rows.dicts() for name, rows in _reports().views(view_names(), period.start, period.end).items()}
    return render_template(
        "reports.html",
        period=period,
        args=period.query(),
        charts=_charts(period, views),
        totals=_totals(views),
        top_users=_top_users(views["user_daily"]),
        budgets=views["stage_budget"],
        reactions=views["reactions"],
        channel_reactions=views["channel_reactions"],
        clip_lengths=_by_clip_length(views["clip_lengths"]),
        views=view_names(),
        target=pricing.target_cost_per_clip(),
        seed=pricing.SEED_COST_PER_CLIP_USD,
        pricing_version=pricing.PRICING_VERSION,
    )


@bp.get("/<name>.csv")
def view_csv(name: str):
    settings: Settings = services.adapters().settings
    if settings.mode == "cloud" or name not in view_names():
        abort(404)
    try:
        period = period_from(request.args)
    except BadPeriod as error:
        return Response(str(error) + "\n", status=400, mimetype="text/plain")
    rows = _reports().view(name, period.start, period.end)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(rows.columns)
    writer.writerows(rows.rows)
    filename = f"{name}_{period.start.isoformat()}_{period.end.isoformat()}.csv"
    return Response(
        text.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _reports() -> UsageReports:
    reports = services.adapters().reports
    if reports is None:  # Google Cloud: BigQuery and Looker Studio run the views
        abort(404)
    return reports


def looker_studio_url(settings: Settings) -> str:
    """A Linking API address that opens a report over the BigQuery views."""
    parameters = {"r.reportName": "Animated Books: cost and usage"}
    if settings.looker_template_report:
        parameters["c.reportId"] = settings.looker_template_report
    for alias, view in LOOKER_SOURCES.items():
        parameters |= {
            f"ds.{alias}.connector": "bigQuery",
            f"ds.{alias}.type": "TABLE",
            f"ds.{alias}.projectId": settings.gcp_project or "",
            f"ds.{alias}.datasetId": settings.bigquery_dataset,
            f"ds.{alias}.tableId": view,
            f"ds.{alias}.datasourceName": f"Animated Books {view}",
        }
    return f"{LOOKER_CREATE}?{urlencode(parameters)}"


def _series(rows: list[dict], value: str) -> dict[date, float]:
    return {row["day"]: row[value] for row in rows}


def _series_by(rows: list[dict], key: str, value: str) -> dict[str, dict[date, float]]:
    series: dict[str, dict[date, float]] = defaultdict(dict)
    for row in rows:
        series[row[key]][row["day"]] = row[value]
    return dict(series)


def _charts(period: Period, views: dict[str, list[dict]]) -> list[charts.Chart]:
    days, stats = period.days, views["render_stats"]
    low, high = pricing.SEED_COST_PER_CLIP_USD
    return [
        charts.stacked_bars(_("Cost per day by kind"), days, _series_by(views["daily_cost"], "kind", "cost_usd"), "$"),
        charts.stacked_bars(
            _("Renders per day"),
            days,
            {
                _("succeeded"): _series(stats, "succeeded"),
                _("failed"): _series(stats, "failed"),
                _("cancelled"): _series(stats, "cancelled"),
            },
            colours=[SUCCEEDED, FAILED, CANCELLED],
        ),
        charts.lines(
            _("Render time"),
            days,
            {"p50": _series(stats, "p50_wall_s"), "p95": _series(stats, "p95_wall_s")},
            "s",
        ),
        charts.lines(
            _("Cost per clip"),
            days,
            {_("measured"): _series(stats, "cost_per_clip_usd")},
            "$",
            references={
                _("seed estimate, low"): low,
                _("seed estimate, high"): high,
                _("cloud target"): pricing.target_cost_per_clip(),
            },
        ),
    ]


def _totals(views: dict[str, list[dict]]) -> dict:
    stats = views["render_stats"]
    succeeded = sum(row["succeeded"] for row in stats)
    render_cost = sum(row["cost_usd"] for row in stats)
    return {
        "cost_usd": sum(row["cost_usd"] for row in views["daily_cost"]),
        "events": sum(row["events"] for row in views["daily_cost"]),
        "renders": sum(row["renders"] for row in stats),
        "succeeded": succeeded,
        "failed": sum(row["failed"] for row in stats),
        "cost_per_clip_usd": render_cost / succeeded if succeeded else None,
        "cost_per_animation_second_usd": render_cost / seconds
        if (seconds := sum(row["animation_seconds"] for row in stats))
        else None,
    }


def _by_clip_length(rows: list[dict]) -> list[dict]:
    """The period's renders by clip length, with what a second of animation cost and what
    the pricing table projects for it on an L4."""
    projected = {length: per_second for length, _, per_second in pricing.price_list()}
    lengths: dict[int, dict] = {}
    for row in rows:
        total = lengths.setdefault(
            row["clip_seconds"],
            {
                "clip_seconds": row["clip_seconds"],
                "renders": 0,
                "succeeded": 0,
                "animation_seconds": 0,
                "cost_usd": 0.0,
            },
        )
        for column in ("renders", "succeeded", "animation_seconds", "cost_usd"):
            total[column] += row[column]
    for total in lengths.values():
        seconds = total["animation_seconds"]
        total["cost_per_animation_second_usd"] = total["cost_usd"] / seconds if seconds else None
        total["projected_per_second_usd"] = projected.get(total["clip_seconds"])
    return sorted(lengths.values(), key=lambda total: total["clip_seconds"])


def _top_users(rows: list[dict]) -> list[dict]:
    users: dict[str, dict] = {}
    for row in rows:
        user = users.setdefault(
            row["user_id"], {"user_id": row["user_id"], "renders": 0, "dialogue_turns": 0, "cost_usd": 0.0}
        )
        for column in ("renders", "dialogue_turns", "cost_usd"):
            user[column] += row[column]
    return sorted(users.values(), key=lambda user: (-user["cost_usd"], user["user_id"]))[:TOP_USERS]
