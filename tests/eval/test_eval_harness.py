"""The dialogue evaluation runs whole in CI, against the local fake of the API."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_the_harness_finishes_every_scene_with_no_problems():
    environment = {**os.environ, "CI": "true", "HF_HUB_OFFLINE": "1"}
    environment.pop("OPENAI_API_KEY", None)
    result = subprocess.run(
        [sys.executable, "tests/eval/eval_dialogue.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads((ROOT / "bench-results" / "eval-dialogue.json").read_text())
    assert figures["mode"].startswith("local fake")
    assert figures["storyboards"] == 20 and figures["with_problems"] == 0
    assert {row["language"] for row in figures["scenes"]} == {"en", "ru"}
    assert figures["avg_chat_calls"] == 2  # a round of questions, then the storyboard
    assert all(row["tokens"] > 0 and row["cost_usd"] > 0 for row in figures["scenes"])
