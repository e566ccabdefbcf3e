"""CPU benchmarks for the render engine (`make bench`). Figures, never assertions.

- the tiny model's whole 15-second clip through the CLI, as a user runs it: wall
  time and peak memory of the process, median of a few runs;
- the same clip in-process, split into load / denoise / decode / encode;
- encoding 120 frames of 512x512 into H.264, at 8 fps and interpolated to 24 fps;
- burning the book's words into a 15-second clip (libass through the bundled ffmpeg), at
  the standard preset's 512x512 and 704x384 (16:9), 8 fps, and at 24 fps (the high preset).

Writes bench-results/cpu.json and prints a table.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# As `python -m animate_job` does: library chatter would bury the figures.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import numpy as np  # noqa: E402

from tests.benchmarks.report import report  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGETS = {"cli_clip_s": "<= 30", "encode_512_8fps_s": "<= 1.5", "burn_in_512_8fps_s": "<= 2"}


def bench_cli_clip(workdir: Path) -> dict:
    walls, peaks = [], []
    for run in range(RUNS):
        out = workdir / f"cli-{run}.mp4"
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(
            [
                sys.executable,
                "-m",
                "animate_job",
                "render",
                "--storyboard",
                str(ROOT / "examples/neva-at-dusk.json"),
                "--out",
                str(out),
                "--device",
                "cpu",
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        walls.append(time.perf_counter() - started)
        # ru_maxrss of children is the largest child so far (KiB on Linux): each run is the same size.
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
    return {
        "cli_clip_s": statistics.median(walls),
        "cli_clip_runs_s": [round(w, 2) for w in walls],
        "cli_peak_rss_mib": max(peaks),
    }


def bench_stages(workdir: Path) -> dict:
    from animate_job.renderer import Renderer, render_clip
    from infra.domain.storyboard import Storyboard, resolve_spec

    storyboard = Storyboard.model_validate_json((ROOT / "examples/neva-at-dusk.json").read_text())
    renderer = Renderer.load("tiny", device="cpu")
    spec = resolve_spec(storyboard)
    render_clip(renderer, spec, workdir / "warmup.mp4")
    stages = []
    for run in range(RUNS):
        files = render_clip(renderer, spec, workdir / f"stages-{run}.mp4")
        stages.append(json.loads(files.metadata.read_text())["timings"])
    return {f"stage_{name}": statistics.median(s[name] for s in stages) for name in stages[0]}


def scene_frames(size: int, count: int = 120) -> np.ndarray:
    """Smooth moving shapes with a little grain: closer to a render than pure noise is."""
    y, x = np.mgrid[0:size, 0:size] / size
    rng = np.random.default_rng(0)
    frames = np.empty((count, size, size, 3), dtype=np.uint8)
    for index in range(count):
        t = index / count
        red = 0.5 + 0.5 * np.sin(6 * x + 4 * t)
        green = 0.5 + 0.5 * np.sin(5 * y - 3 * t)
        blue = ((x - 0.3 - 0.4 * t) ** 2 + (y - 0.5) ** 2 < 0.02).astype(float)
        image = np.stack([red, green, blue], axis=-1) + rng.normal(0, 0.02, (size, size, 3))
        frames[index] = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    return frames


def bench_encode(workdir: Path) -> dict:
    from animate_job.encode import write_mp4

    frames = scene_frames(512)
    result = {}
    for output_fps, runs in ((8, RUNS), (24, 1)):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            write_mp4(frames, workdir / f"encode-{output_fps}.mp4", fps=8, output_fps=output_fps, duration_s=15.0)
            times.append(time.perf_counter() - started)
        result[f"encode_512_{output_fps}fps_s"] = statistics.median(times)
        result[f"encode_512_{output_fps}fps_mib"] = (workdir / f"encode-{output_fps}.mp4").stat().st_size / 2**20
    return result


def bench_burn_in(workdir: Path) -> dict:
    """The render job's extra step when shots carry quotes: a second H.264 encode with the
    WebVTT cues drawn in, for a 15-second clip of four quoted shots."""
    from animate_job.encode import burn_subtitles, write_mp4
    from infra.domain.storyboard import Storyboard
    from infra.domain.subtitles import cues, webvtt

    storyboard = Storyboard.model_validate(
        {
            "title": "bench",
            "shots": [
                {"start_s": 0, "prompt": "a", "quote": "Он вышел на мост."},
                {"start_s": 4, "prompt": "b", "quote": "Тварь ли я дрожащая или право имею?"},
                {"start_s": 8, "prompt": "c", "quote": "Нева была тиха, и фонари ещё не горели над тёмной водой."},
                {"start_s": 12, "prompt": "d", "quote": "Ветер дул с залива."},
            ],
        }
    )
    subtitles = workdir / "bench.vtt"
    subtitles.write_text(webvtt(cues(storyboard, 15.0)), encoding="utf-8")
    square = scene_frames(512)
    result = {}
    for name, frames, output_fps in (
        ("512_8fps", square, 8),
        ("704x384_8fps", np.ascontiguousarray(np.concatenate([square, square[:, :, :192]], axis=2)[:, :384]), 8),
        ("512_24fps", square, 24),
    ):
        clip = workdir / f"burn-{name}.mp4"
        write_mp4(frames, clip, fps=8, output_fps=output_fps, duration_s=15.0)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            burn_subtitles(clip, subtitles, workdir / f"burned-{name}.mp4")
            times.append(time.perf_counter() - started)
        result[f"burn_in_{name}_s"] = statistics.median(times)
    return result


def main() -> int:
    import torch

    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "runs": RUNS,
    }
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        results |= bench_cli_clip(workdir)
        results |= bench_stages(workdir)
        results |= bench_encode(workdir)
        results |= bench_burn_in(workdir)
    report("cpu", results, TARGETS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
