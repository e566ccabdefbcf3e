"""Health that tells the truth: /healthz answers while the process does; /readyz only
while every store the site needs can be written or read, and says which cannot."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from frontend_service import create_app
from infra.bootstrap import bootstrap
from tests.conftest import ADMIN_EMAIL, ROOT, signed_in
from tests.site import free_port


def site_over(data_dir, admin: bool = False):
    """A browser on the site over a data folder; an admin's, for the reports."""
    from infra.settings import Settings

    settings = Settings(data_dir=data_dir, admin_emails=[ADMIN_EMAIL])
    app = create_app({"TESTING": True, "START_WORKER": False}, bootstrap(settings))
    return signed_in(app, ADMIN_EMAIL).client if admin else app.test_client()


def test_ready_when_every_store_answers(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


@pytest.mark.parametrize(
    ("broken", "failing"),
    [
        ("files", {"storage"}),
        ("usage", {"usage"}),
        ("animbooks.sqlite3", {"records", "queue", "counters"}),
    ],
)
def test_not_ready_names_what_cannot_be_reached(tmp_path, broken, failing):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / broken).write_bytes(b"not what the site expects here" * 50)  # a file, or a database that is not one
    client = site_over(data_dir)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and set(body["failing"]) == failing
    assert client.get("/healthz").status_code == 200  # alive, but not to be sent people


def test_a_broken_usage_database_fails_no_request(tmp_path):
    """Before, an unreadable DuckDB file made every new scene, /reports and every CSV
    answer 500, also after a restart, while /healthz said 200."""
    data_dir = tmp_path / "data"
    client = site_over(data_dir, admin=True)
    token = client.get("/api/session").get_json()["csrf_token"]
    assert client.post("/api/scenes", json={"text": "A lighthouse."}, headers={"X-CSRFToken": token}).status_code == 201
    assert client.get("/reports").status_code == 200
    (data_dir / "usage.duckdb").write_bytes(b"\x00garbage" * 1000)
    (data_dir / "usage.duckdb.wal").write_bytes(b"WAL checkpoint iteration does not match")
    restarted = site_over(data_dir)
    restarted.set_cookie("session", client.get_cookie("session").value)
    created = restarted.post("/api/scenes", json={"text": "A second scene."}, headers={"X-CSRFToken": token})
    assert created.status_code == 201
    page = restarted.get("/reports")
    assert page.status_code == 200
    assert "<dt>Events</dt><dd>2</dd>" in page.get_data(as_text=True)  # both scenes' model calls, loaded again
    assert restarted.get("/reports/daily_cost.csv").status_code == 200
    assert restarted.get("/readyz").status_code == 200


def test_gunicorn_does_not_serve_a_site_that_is_not_ready(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "files").write_text("a file where the clips folder should be")
    result = subprocess.run(
        [
            str(__import__("pathlib").Path(sys.executable).with_name("gunicorn")),
            "--config",
            "python:frontend_service.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{free_port()}",
            "frontend_service:create_app()",
        ],
        cwd=ROOT,
        env={"ANIMBOOKS_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0  # it stopped instead of restarting workers in a loop
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    refusals = [line["message"] for line in lines if line["message"].startswith("not ready, not serving")]
    assert refusals and "storage: " in refusals[0]
