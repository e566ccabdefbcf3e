"""A setting the code cannot use stops each deployable at start with one line that names
it and what it accepts: a non-zero exit, no traceback, no worker started again and again.
Each entry point runs as its image runs it, as a subprocess."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from frontend_service.dialogue import build_engine
from frontend_service.dialogue.offline import OfflineEngine
from infra.settings import Settings
from tests.conftest import ROOT

BIN = ROOT / ".venv" / "bin"
CLOUD = "ANIMBOOKS_MODE=cloud needs ANIMBOOKS_GCP_PROJECT and ANIMBOOKS_RENDERS_BUCKET"
MISTAKES = {
    "unknown mode": ({"ANIMBOOKS_MODE": "clod"}, "ANIMBOOKS_MODE='clod': should be 'local' or 'cloud'"),
    "cloud without project or bucket": ({"ANIMBOOKS_MODE": "cloud"}, CLOUD),
    "cloud without bucket": (
        {"ANIMBOOKS_MODE": "cloud", "ANIMBOOKS_GCP_PROJECT": "books"},
        "ANIMBOOKS_MODE=cloud needs ANIMBOOKS_RENDERS_BUCKET",
    ),
    "quota not a number": (
        {"ANIMBOOKS_DAILY_RENDER_QUOTA": "twenty"},
        "ANIMBOOKS_DAILY_RENDER_QUOTA='twenty': should be a valid integer",
    ),
    "quota below zero": (
        {"ANIMBOOKS_DAILY_RENDER_QUOTA": "-1"},
        "ANIMBOOKS_DAILY_RENDER_QUOTA='-1': should be greater",
    ),
}
ENTRY_POINTS = {
    "web (gunicorn)": [
        str(BIN / "gunicorn"),
        "--config",
        "python:frontend_service.gunicorn_conf",
        "--bind",
        "127.0.0.1:0",
        "frontend_service:create_app()",
    ],
    "job": [sys.executable, "-m", "animate_job", "run", "r1"],
    "the gallery's reindex": [sys.executable, "-m", "infra.gallery_reindex"],
    "trigger (functions-framework)": [
        str(BIN / "functions-framework"),
        "--source=animate_job/trigger.py",
        "--target=on_render_request",
        "--signature-type=http",
        "--port=0",
    ],
}


def environment(tmp_path, **settings) -> dict:
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ANIMBOOKS_", "OPENAI_", "CLOUD_RUN_", "RENDER_ID"))
    }
    return clean | {"ANIMBOOKS_DATA_DIR": str(tmp_path / "data")} | settings


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_configuration_mistake_stops_with_one_line(entry, mistake, tmp_path):
    settings, expected = MISTAKES[mistake]
    result = subprocess.run(
        ENTRY_POINTS[entry],
        cwd=ROOT,
        env=environment(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: configuration: {expected}"), result.stderr
    assert "Booting worker" not in result.stderr  # gunicorn stopped before forking any


def test_the_job_refuses_a_cloud_run_environment_it_cannot_use(tmp_path):
    for settings, expected in (
        ({"CLOUD_RUN_TASK_ATTEMPT": "first"}, "error: configuration: CLOUD_RUN_TASK_ATTEMPT='first'"),
        (
            {"CLOUD_RUN_TASK_COUNT": "2", "CLOUD_RUN_TASK_INDEX": "1"},
            "error: a render runs as one task, not task 1 of 2",
        ),
    ):
        result = subprocess.run(
            ENTRY_POINTS["job"], cwd=ROOT, env=environment(tmp_path, **settings), capture_output=True, text=True
        )
        assert (result.returncode, result.stderr.strip().splitlines()[-1][: len(expected)]) == (2, expected)
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_an_empty_or_blank_openai_key_means_no_key_and_the_offline_engine(value, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", value)
    settings = Settings()
    assert settings.openai_api_key is None
    with caplog.at_level(logging.INFO, logger="frontend_service.dialogue"):
        assert isinstance(build_engine(settings), OfflineEngine)
    assert "no OPENAI_API_KEY: the dialogue uses the offline engine" in caplog.text


def test_a_blank_openai_key_lets_the_site_start(tmp_path):
    """Before, an empty OPENAI_API_KEY crashed every gunicorn worker with a traceback."""
    code = "from frontend_service import create_app; create_app({'START_WORKER': False}); print('started')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment(tmp_path, OPENAI_API_KEY=" "),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "started"), result.stderr
