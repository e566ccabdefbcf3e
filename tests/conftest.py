import os

# Before anything imports huggingface_hub: no test may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_STORYBOARD = ROOT / "examples" / "neva-at-dusk.json"


@pytest.fixture
def storyboard_data() -> dict:
    """A valid three-shot storyboard as a person would write it."""
    return json.loads(EXAMPLE_STORYBOARD.read_text())


@pytest.fixture(scope="session")
def tiny_renderer():
    """The built-in tiny pipeline on the CPU, loaded once for the session."""
    from animate_job.renderer import Renderer

    return Renderer.load("tiny", device="cpu")
