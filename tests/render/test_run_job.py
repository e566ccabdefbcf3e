"""`python -m animate_job run RENDER_ID` with the local adapters and the tiny model."""

import json
import os
import subprocess
import sys

import pytest

from animate_job.run import EXIT_RETRY, EXIT_UNKNOWN_RENDER, run_render
from infra.domain.pricing import PRICING_VERSION, render_cost
from tests.conftest import ROOT
from tests.media import probe
from tests.usage import stored_events


@pytest.fixture
def tiny_loader(tiny_renderer):
    return lambda base, adapter: tiny_renderer


def test_a_queued_render_is_made_stored_and_reported(adapters, make_render, tiny_loader):
    render = make_render()
    assert run_render(render.id, adapters, load_renderer=tiny_loader) == 0
    stored = adapters.records.get_render(render.id)
    assert (stored.state, stored.progress, stored.attempts) == ("succeeded", 1.0, 1)
    assert set(stored.artifacts) == {"video", "poster", "preview", "metadata"}
    video = adapters.storage.path_for(stored.artifacts["video"])
    assert probe(video)["duration_s"] == pytest.approx(15.0)
    metadata = json.loads(adapters.storage.path_for(stored.artifacts["metadata"]).read_text())
    assert metadata["spec"] == json.loads(render.spec.model_dump_json())  # the frozen spec, stored with the clip
    assert stored.timings["render_s"] > 0
    [event] = stored_events(adapters)
    assert (event["kind"], event["render_id"], event["status"], event["frames"]) == (
        "render",
        render.id,
        "succeeded",
        120,
    )
    # Priced as a Cloud Run job of the same length; a CPU render holds no GPU.
    assert event["gpu_seconds"] == 0 and event["cost_usd"] == pytest.approx(render_cost(event["wall_seconds"], 0))
    assert event["cost_usd"] > 0 and event["pricing_version"] == PRICING_VERSION


def test_a_second_delivery_does_not_render_again(adapters, make_render, tiny_loader):
    render = make_render()
    run_render(render.id, adapters, load_renderer=tiny_loader)
    finished = adapters.records.get_render(render.id)

    def must_not_load(base, adapter):
        raise AssertionError("rendered twice")

    assert run_render(render.id, adapters, attempt=2, load_renderer=must_not_load) == 0
    assert adapters.records.get_render(render.id) == finished
    assert len(stored_events(adapters)) == 1


def test_an_unknown_render(adapters):
    assert run_render("no-such-render", adapters) == EXIT_UNKNOWN_RENDER


def test_a_failure_is_retried_then_failed_with_its_reason(adapters, make_render):
    from animate_job.models import ModelNotAvailable

    render = make_render()

    def missing_weights(base, adapter):
        raise ModelNotAvailable("no model directory at /models/sd15")

    assert run_render(render.id, adapters, attempt=1, load_renderer=missing_weights) == EXIT_RETRY
    retrying = adapters.records.get_render(render.id)
    assert retrying.state == "queued" and "attempt 1 failed" in retrying.error
    assert run_render(render.id, adapters, attempt=2, load_renderer=missing_weights) == EXIT_RETRY
    failed = adapters.records.get_render(render.id)
    assert (failed.state, failed.error) == (
        "failed",
        "the model could not be loaded: no model directory at /models/sd15",
    )
    assert [e["status"] for e in stored_events(adapters)] == ["failed", "failed"]
    assert not any(adapters.storage.root.rglob("*.mp4"))  # nothing stored half-way


@pytest.mark.slow
def test_as_a_subprocess_with_settings_from_the_environment(adapters, make_render, settings):
    render = make_render()
    result = subprocess.run(
        [sys.executable, "-m", "animate_job", "run", render.id],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
        env={
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "ANIMBOOKS_DATA_DIR": str(settings.data_dir),
            "ANIMBOOKS_DEVICE": "cpu",
        },
    )
    assert result.returncode == 0, result.stderr
    assert adapters.records.get_render(render.id).state == "succeeded"


class TakenOver:
    """The records as a newer attempt sees them: it takes the render over at the first
    call of `method` (a crash-looping Cloud Run task, or a job a dead worker left)."""

    def __init__(self, records, method: str):
        self._records, self._method, self.done = records, method, False

    def __getattr__(self, name):
        call = getattr(self._records, name)
        if name != self._method:
            return call

        def first_take_over(render_id, *args, **kwargs):
            if not self.done:
                self.done = True
                render = self._records.get_render(render_id)
                assert self._records.mark_running(render_id, render.attempts + 1, "newer")
            return call(render_id, *args, **kwargs)

        return first_take_over


def _taken_over_at(adapters, method: str):
    import dataclasses

    return dataclasses.replace(adapters, records=TakenOver(adapters.records, method))


def test_an_attempt_taken_over_mid_render_stops_and_writes_nothing(adapters, make_render, tiny_loader):
    render = make_render()
    assert run_render(render.id, _taken_over_at(adapters, "report_progress"), load_renderer=tiny_loader) == 0
    stored = adapters.records.get_render(render.id)
    assert (stored.state, stored.runner, stored.attempts, stored.artifacts) == ("running", "newer", 2, {})
    assert not any(path.is_file() for path in adapters.storage.root.rglob("*"))
    [event] = stored_events(adapters)
    assert event["status"] == "superseded"  # its GPU time was spent all the same


def test_an_attempt_that_loses_at_the_finish_deletes_the_files_it_stored(adapters, make_render, tiny_loader):
    render = make_render()
    assert run_render(render.id, _taken_over_at(adapters, "mark_succeeded"), load_renderer=tiny_loader) == 0
    stored = adapters.records.get_render(render.id)
    assert (stored.state, stored.runner) == ("running", "newer")  # the newer attempt's to finish
    assert not any(path.is_file() for path in adapters.storage.root.rglob("*"))
    assert [e["status"] for e in stored_events(adapters)] == ["superseded"]


def test_each_attempt_stores_its_files_apart(adapters, make_render, tiny_loader):
    render = make_render()
    run_render(render.id, adapters, load_renderer=tiny_loader)
    stored = adapters.records.get_render(render.id)
    assert stored.artifacts["video"] == f"renders/{render.id}/{stored.runner}/clip.mp4"
    [event] = stored_events(adapters)
    assert event["event_id"] == f"render-attempt-{stored.runner}"
