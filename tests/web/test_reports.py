"""The reports page: the usage views drawn locally, CSV of each, Looker Studio on the cloud."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from frontend_service import create_app, services
from frontend_service.blueprints.reports import LOOKER_SOURCES, looker_studio_url
from infra.bigquery import view_names
from infra.domain.ids import now
from infra.domain.usage import UsageEvent
from tests.conftest import google_account_session

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def client(admin):
    """The reports are an admin's (tests/web/test_roles.py holds everyone else off)."""
    return admin.client


@pytest.fixture
def events(adapters):
    today = now()
    recorded = [
        UsageEvent(kind="dialogue_turn", user_id="reader", cost_usd=0.002, event_ts=today),
        UsageEvent(
            kind="render",
            user_id=HOSTILE,
            render_id="r1",
            status="succeeded",
            wall_seconds=42.0,
            gpu_seconds=42.0,
            cost_usd=0.25,
            event_ts=today - timedelta(days=1),
        ),
        UsageEvent(kind="render", user_id="reader", render_id="r2", status="failed", cost_usd=0.05, event_ts=today),
    ]
    for event in recorded:
        adapters.usage.record(event)
    return recorded


def test_the_page_with_no_events(client):
    page = client.get("/reports")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert (
        "Nothing in these days." in text
        and "<svg" not in text.split('<main id="main" tabindex="-1">')[1].split("Top users")[0]
    )
    for name in view_names():
        assert f"/reports/{name}.csv?" in text
        rows = list(csv.reader(io.StringIO(client.get(f"/reports/{name}.csv").get_data(as_text=True))))
        reports = services.adapters(client.application).reports
        assert reports is not None and rows == [reports.view(name).columns]


def test_the_page_draws_the_views(client, events):
    text = client.get("/reports").get_data(as_text=True)
    assert text.count('<svg viewBox="0 0 720 240"') == 4  # cost by kind, renders, render time, cost per clip
    assert "render: $0.25" in text and "succeeded: 1" in text and "failed: 1" in text
    assert "$0.3020" in text  # total cost in the period
    assert (
        "cost_per_clip" not in text.split('<main id="main" tabindex="-1">')[1].split("Download")[0]
    )  # people's words, not column names
    assert "$0.3000" in text  # cost per clip: both renders' cost over the one clip
    assert HOSTILE not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # user ids are escaped


def test_csv_is_the_view(client, events, adapters):
    start, end = (now() - timedelta(days=3)).date(), now().date()
    for name in view_names():
        response = client.get(f"/reports/{name}.csv?start={start}&end={end}")
        assert response.mimetype == "text/csv"
        assert f'filename="{name}_{start}_{end}.csv"' in response.headers["Content-Disposition"]
        header, *rows = csv.reader(io.StringIO(response.get_data(as_text=True)))
        view = adapters.reports.view(name, start, end)
        assert header == view.columns
        assert rows == [["" if value is None else str(value) for value in row] for row in view.rows]
    [stats] = list(
        csv.DictReader(io.StringIO(client.get(f"/reports/render_stats.csv?start={end}").get_data(as_text=True)))
    )
    assert (stats["renders"], stats["failed"]) == ("1", "1")  # only today's render


@pytest.mark.parametrize(
    "query, message",
    [
        ("start=yesterday", "Dates are written as YYYY-MM-DD"),
        ("start=2026-11-10&end=2026-11-01", "The first day comes after the last"),
        ("start=2020-01-01&end=2026-01-01", "Choose at most 366 days"),
        ("end=0001-01-05", "Choose days from 2000-01-01 to 2999-12-31"),  # 30 days before it: no such date
        ("start=9999-12-31&end=9999-12-31", "Choose days from 2000-01-01 to 2999-12-31"),
        ("start=1999-12-31&end=2000-01-01", "Choose days from 2000-01-01 to 2999-12-31"),
        ("start=2999-12-31&end=3000-01-01", "Choose days from 2000-01-01 to 2999-12-31"),
        ("end=3000-01-01", "Choose days from 2000-01-01 to 2999-12-31"),
    ],
)
def test_a_bad_period_says_what_to_change(client, query, message):
    page = client.get(f"/reports?{query}")
    assert page.status_code == 400 and message in page.get_data(as_text=True)
    download = client.get(f"/reports/daily_cost.csv?{query}")
    assert download.status_code == 400 and message in download.get_data(as_text=True)


def test_the_supported_days_in_russian(client):
    page = client.get("/reports?end=0001-01-05", headers={"Accept-Language": "ru"})
    assert page.status_code == 400 and "Выберите дни с 2000-01-01 по 2999-12-31." in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "query, first, last",
    [
        ("start=2000-01-01&end=2000-01-01", "2000-01-01", "2000-01-01"),
        ("end=2000-01-05", "2000-01-01", "2000-01-05"),  # the last 30 days, from the first there is
        ("start=2999-12-31&end=2999-12-31", "2999-12-31", "2999-12-31"),
    ],
)
def test_the_first_and_last_supported_days(client, query, first, last):
    assert client.get(f"/reports?{query}").status_code == 200
    download = client.get(f"/reports/daily_cost.csv?{query}")
    assert download.status_code == 200
    assert f'filename="daily_cost_{first}_{last}.csv"' in download.headers["Content-Disposition"]


def test_an_unknown_view_is_not_found(client):
    assert client.get("/reports/secrets.csv").status_code == 404
    assert client.get("/reports/..%2Fsettings.csv").status_code == 404


def test_in_cloud_mode_the_page_links_to_looker_studio(adapters):
    settings = adapters.settings.model_copy(update={"mode": "cloud", "gcp_project": "books-prod"})
    app = create_app({"TESTING": True, "START_WORKER": False}, dataclasses.replace(adapters, settings=settings))
    admin = google_account_session(app)
    page = admin.get("/reports").get_data(as_text=True)
    assert "https://lookerstudio.google.com/reporting/create?" in page
    assert admin.get("/reports/daily_cost.csv").status_code == 404  # the data lives in BigQuery


def test_the_looker_studio_link_has_every_view_as_a_data_source(settings):
    settings = settings.model_copy(update={"gcp_project": "books-prod", "looker_template_report": "abc-123"})
    url = urlparse(looker_studio_url(settings))
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert (url.netloc, url.path, query["c.reportId"]) == ("lookerstudio.google.com", "/reporting/create", "abc-123")
    assert sorted(LOOKER_SOURCES.values()) == view_names()
    for alias, view in LOOKER_SOURCES.items():
        assert query[f"ds.{alias}.connector"] == "bigQuery" and query[f"ds.{alias}.type"] == "TABLE"
        assert (query[f"ds.{alias}.projectId"], query[f"ds.{alias}.datasetId"]) == ("books-prod", "usage")
        assert query[f"ds.{alias}.tableId"] == view


def test_the_page_shows_the_telegram_channels_reactions(client, adapters):
    today = now()
    for channel, post, likes, subscribers in (("-1001", 1, 6, 1000), ("-1002", 1, 2, 3000)):
        adapters.usage.record(
            UsageEvent(
                kind="channel_reaction",
                channel_id=channel,
                post_id=post,
                likes=likes,
                dislikes=1,
                subscribers=subscribers,
                event_ts=today,
            )
        )
    main = client.get("/reports").get_data(as_text=True).split('<main id="main" tabindex="-1">')[1]
    section = main.split("Reactions in the Telegram channels")[1].split("Download")[0]
    rows = [row for row in section.split("<tr") if "<td>" in row]
    # Each channel's likes per post, then every channel: AvgReact (6 + 2) / 2 = 4.00,
    # WeightedAvgReact (1000 x 6 + 3000 x 2) / 4000 = 3.00; thumbs-down 1.00 either way.
    assert "<td>-1001</td>" in rows[0] and "<td>6.00</td>" in rows[0]
    assert "<td>-1002</td>" in rows[1] and "<td>2.00</td>" in rows[1]
    assert "all 2" in rows[2]
    assert [cell.split("<")[0] for cell in rows[2].split("<td>")[-4:]] == ["4.00", "3.00", "1.00", "1.00"]


def test_the_page_shows_the_cost_per_second_of_animation_by_clip_length(client, adapters):
    today = now()

    def attempt(render_id: str, status: str, cost: float, seconds: int | None) -> UsageEvent:
        return UsageEvent(
            kind="render", render_id=render_id, status=status, cost_usd=cost, clip_seconds=seconds, event_ts=today
        )

    for event in (
        attempt("a", "succeeded", 0.06, None),  # before clips had lengths: 15 s
        attempt("b", "succeeded", 0.09, 15),
        attempt("c", "failed", 0.03, 30),  # its retry succeeded: the clip carries both attempts
        attempt("c", "succeeded", 0.15, 30),
        attempt("d", "succeeded", 0.24, 60),
    ):
        adapters.usage.record(event)
    main = client.get("/reports").get_data(as_text=True).split('<main id="main" tabindex="-1">')[1]
    # All of it: 0.57 USD over 15 + 15 + 30 + 60 = 120 s of animation = 0.00475 USD a second.
    assert "Cost per second of animation</dt><dd>$0.00475</dd>" in main
    section = main.split("By clip length")[1].split("Top users")[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in section.split("<tr") if "<td" in row]
    # 15 s: 0.15 USD over 30 s = 0.005; 30 s: 0.18 over 30 s = 0.006; 60 s: 0.24 over 60 s = 0.004.
    # Projected (the pricing table, an L4): 0.002137614, 0.001758735 and 0.0015692955 USD a second.
    assert rows == [
        ["15 s", "2", "2", "30", "$0.1500", "$0.00500", "$0.00214"],
        ["30 s", "1", "1", "30", "$0.1800", "$0.00600", "$0.00176"],
        ["60 s", "1", "1", "60", "$0.2400", "$0.00400", "$0.00157"],
    ]
