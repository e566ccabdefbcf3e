"""Every documented exit status of the renderer's command line, each from a real process:
`render` 0 written, 1 anything else, 2 bad input, 3 weights not found, 4 out of memory;
`run` (the render job) 0 done, 1 try again, 2 no such render."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from animate_job.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_NO_MODEL, EXIT_OUT_OF_MEMORY
from animate_job.run import EXIT_RETRY, EXIT_UNKNOWN_RENDER
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def job(*arguments: str, environment: dict[str, str] | None = None, memory_bytes: int | None = None):
    def cap_memory(limit: int) -> None:  # the process's own address space, as a container's limit caps it
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "animate_job", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "ANIMBOOKS_DEVICE": "cpu", **(environment or {})},
        preexec_fn=(lambda: cap_memory(memory_bytes)) if memory_bytes else None,
    )


def one_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr  # one line for a person, never a traceback
    return lines[0]


def test_the_documented_numbers():
    assert (0, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NO_MODEL, EXIT_OUT_OF_MEMORY) == (0, 1, 2, 3, 4)
    assert (EXIT_RETRY, EXIT_UNKNOWN_RENDER) == (1, 2)


def test_render_0_written(tmp_path):
    result = job("render", "--prompt", "a lighthouse", "--preset", "draft", "--out", str(tmp_path / "clip.mp4"))
    assert result.returncode == 0 and (tmp_path / "clip.mp4").stat().st_size > 0


def test_render_2_bad_input(tmp_path):
    (tmp_path / "storyboard.json").write_text(json.dumps({"title": "no shots"}))
    result = job("render", "--storyboard", str(tmp_path / "storyboard.json"), "--out", str(tmp_path / "c.mp4"))
    assert result.returncode == 2
    assert one_line(result) == "error: invalid storyboard: shots: this field is required"


def test_render_3_weights_not_found(tmp_path):
    result = job("render", "--prompt", "a lighthouse", "--model", str(tmp_path / "no-model"), "--out", "c.mp4")
    assert result.returncode == 3 and str(tmp_path / "no-model") in one_line(result)


def test_render_4_out_of_memory(tmp_path):
    """Before, torch's CPU allocator's words for an allocation the system refused were not
    recognised: the person got exit 1 and 'render failed' instead of 4 and what to change."""
    result = job(
        "render",
        "--prompt",
        "a lighthouse",
        "--preset",
        "draft",
        "--width",
        "1024",
        "--height",
        "1024",
        "--out",
        str(tmp_path / "c.mp4"),
        environment={"OMP_NUM_THREADS": "1"},
        memory_bytes=1_600_000_000,  # the imports fit (about 0.8 GB of address space); 1024x1024 does not
    )
    assert result.returncode == 4
    assert one_line(result).startswith("error: the CPU ran out of memory rendering 1024x1024")


def test_render_1_anything_else(tmp_path):
    # The output folder is a file: the clip cannot be written, and nothing the person typed is wrong.
    (tmp_path / "taken").write_text("a file, not a folder")
    result = job("render", "--prompt", "a lighthouse", "--preset", "draft", "--out", str(tmp_path / "taken/c.mp4"))
    assert result.returncode == 1 and one_line(result).startswith("error: render failed:")


def test_run_2_no_render_id(settings):
    result = job("run", environment={"ANIMBOOKS_DATA_DIR": str(settings.data_dir), "RENDER_ID": ""})
    assert result.returncode == 2 and one_line(result).startswith("error: no render id")


def test_run_2_unknown_render(settings):
    result = job("run", "no-such-render", environment={"ANIMBOOKS_DATA_DIR": str(settings.data_dir)})
    assert result.returncode == 2


def test_run_1_try_again_then_0_once_done(settings, adapters, make_render, tmp_path):
    render = make_render(base_model=str(tmp_path / "missing-model"))
    environment = {"ANIMBOOKS_DATA_DIR": str(settings.data_dir), "ANIMBOOKS_RENDER_ATTEMPT": "1"}
    assert job("run", render.id, environment=environment).returncode == 1  # Cloud Run tries again
    assert adapters.records.get_render(render.id).state == "queued"
    done = make_render()
    assert job("run", done.id, environment=environment).returncode == 0
    assert adapters.records.get_render(done.id).state == "succeeded"
