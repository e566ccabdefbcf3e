"""CPU benchmarks for the render engine (`make bench`). Figures, never assertions.

- the tiny model's whole 15-second clip through the CLI, as a user runs it: wall
  time and peak memory of the process, median of a few runs;
- the same clip in-process, split into load / denoise / decode / encode;
- encoding 120 frames of 512x512 into H.264, at 8 fps and interpolated to 24 fps, and
  the trade-off of the interpolation: the blend the high preset uses against ffmpeg's
  motion-compensated mode, time and how close the in-between frames come to the true
  ones (PSNR), and the share of the high preset's job the interpolation takes;
- decoding 120 latent frames to 512x512 (the tiny VAE): the former whole-video decode
  against the renderer's chunk at a time, time and the process's memory growth, each in
  a fresh process, interleaved;
- the job's start by stage, in a fresh process: imports, load, first denoising step;
- diffusers' FreeNoise split inference against none: denoising time and memory growth;
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
TARGETS = {
    "cli_clip_s": "<= 30",
    "encode_512_8fps_s": "<= 1.5",
    "high_interpolation_share": "<= 0.2",
    "high_interpolation_share_l4_at_most": "<= 0.2",
    "burn_in_512_8fps_s": "<= 2",
}


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
    from animate_job import encode

    truth = scene_frames(512, count=360)  # the motion at 24 fps: what interpolation should find
    frames = truth[::3]  # the 8 fps the renderer makes
    result: dict = {}
    variants = {"8fps": (8, None), "24fps": (24, encode.INTERPOLATION), "24fps_mci": (24, "mi_mode=mci")}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for run in range(RUNS):
        for name, (output_fps, mode) in variants.items():
            if name == "24fps_mci" and run:  # a minute each under load: once is enough
                continue
            encode.INTERPOLATION = mode or encode.INTERPOLATION
            started = time.perf_counter()
            encode.write_mp4(frames, workdir / f"encode-{name}.mp4", fps=8, output_fps=output_fps, duration_s=15.0)
            times[name].append(time.perf_counter() - started)
    encode.INTERPOLATION = variants["24fps"][1] or ""
    for name in variants:
        result[f"encode_512_{name}_s"] = statistics.median(times[name])
        result[f"encode_512_{name}_mib"] = (workdir / f"encode-{name}.mp4").stat().st_size / 2**20
        if name != "8fps":
            result[f"encode_512_{name}_inbetween_psnr_db"] = _inbetween_psnr(workdir / f"encode-{name}.mp4", truth)
    return result


def _inbetween_psnr(path: Path, truth: np.ndarray) -> float:
    """How close the made frames (not those rendered) come to the true 24 fps motion."""
    from tests.media import decode_frames

    decoded = decode_frames(path)[: len(truth)]
    made = [index for index in range(len(decoded)) if index % 3]
    error = ((decoded[made].astype(np.float64) - truth[made].astype(np.float64)) ** 2).mean()
    return float(10 * np.log10(255**2 / error))


def bench_high_share(workdir: Path) -> dict:
    """The share of the high preset's job (the tiny model, here) spent interpolating: the
    24 fps encode less the 8 fps encode of the same frames, over the whole render."""
    from animate_job.encode import write_mp4
    from animate_job.renderer import Renderer, render_clip
    from infra.domain.storyboard import Storyboard, resolve_spec

    storyboard = Storyboard.model_validate_json((ROOT / "examples/neva-at-dusk.json").read_text())
    renderer = Renderer.load("tiny", device="cpu")
    spec = resolve_spec(storyboard, "high")
    files = render_clip(renderer, spec, workdir / "high.mp4")
    frames = renderer.render(spec).frames
    started = time.perf_counter()
    write_mp4(frames, workdir / "high-8.mp4", fps=8, output_fps=8, duration_s=15.0)
    plain_s = time.perf_counter() - started
    started = time.perf_counter()
    write_mp4(frames, workdir / "high-24.mp4", fps=8, output_fps=24, duration_s=15.0)
    interpolation_s = max(0.0, time.perf_counter() - started - plain_s)
    # The tiny model's frames are 64x64, so that share says little. At the high preset's own
    # 512x512: the 24 fps encode's extra seconds, against the shortest job the high preset
    # can be on the L4 it is made for: the standard clip's projected job
    # (pricing.L4_PROJECTED_RENDER, 4 denoising steps; the high preset takes 8).
    from infra.domain.pricing import L4_PROJECTED_RENDER

    full = scene_frames(512)
    extra = []
    for _ in range(RUNS):
        started = time.perf_counter()
        write_mp4(full, workdir / "high512-8.mp4", fps=8, output_fps=8, duration_s=15.0)
        plain_s = time.perf_counter() - started
        started = time.perf_counter()
        write_mp4(full, workdir / "high512-24.mp4", fps=8, output_fps=24, duration_s=15.0)
        extra.append(max(0.0, time.perf_counter() - started - plain_s))
    interpolation_512_s = statistics.median(extra)
    job_s = L4_PROJECTED_RENDER.seconds_for(15) + interpolation_512_s
    return {
        "high_render_s": files.timings["render_s"],
        "high_interpolation_s": interpolation_s,
        "high_interpolation_share": interpolation_s / files.timings["render_s"],
        "high_size": f"{spec.width}x{spec.height} (the tiny model's)",
        "high_interpolation_512_s": interpolation_512_s,
        "high_interpolation_share_l4_at_most": interpolation_512_s / job_s,
    }


DECODE = """
import json, sys, time
import torch
from animate_job.renderer import PeakMemory, Renderer
renderer = Renderer.load("tiny", device="cpu")
pipe, way, size, chunk = renderer.pipeline, sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
latents = torch.randn(1, 4, 120, size // 8, size // 8, generator=torch.Generator().manual_seed(0))
with torch.inference_mode(), PeakMemory(torch.device("cpu")) as memory:
    started = time.perf_counter()
    if way == "whole":  # the renderer's former decode
        video = pipe.video_processor.denormalize(pipe.decode_latents(latents, decode_chunk_size=chunk)[0])
        frames = (video * 255).round().to(torch.uint8).permute(1, 2, 3, 0).cpu().numpy()
    else:
        frames = renderer.decode(latents, chunk)
    seconds = time.perf_counter() - started
print(json.dumps({"s": seconds, "growth_mib": memory.figures["host_peak"] - memory.figures["host_start"]}))
"""


def bench_decode_memory(size: int = 512, chunk: int = 16) -> dict:
    figures: dict[str, list[dict]] = {"whole": [], "chunked": []}
    for _ in range(RUNS):
        for way in figures:
            output = subprocess.run(
                [sys.executable, "-c", DECODE, way, str(size), str(chunk)],
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
            ).stdout
            figures[way].append(json.loads(output.strip().splitlines()[-1]))
    result: dict = {"decode_setup": f"120 frames of {size}x{size}, chunks of {chunk}, the tiny VAE, on the CPU"}
    for way, runs in figures.items():
        result[f"decode_{way}_s"] = statistics.median(run["s"] for run in runs)
        result[f"decode_{way}_growth_mib"] = statistics.median(run["growth_mib"] for run in runs)
    result["decode_memory_ratio"] = result["decode_chunked_growth_mib"] / result["decode_whole_growth_mib"]
    return result


SPLIT = """
import json, sys, time
import torch
from animate_job.renderer import PeakMemory, Renderer
from infra.domain.storyboard import Storyboard, resolve_spec
way, size = sys.argv[1], int(sys.argv[2])
pipe = Renderer.load("tiny", device="cpu").pipeline
spec = resolve_spec(Storyboard.model_validate_json(open("examples/neva-at-dusk.json").read()), width=size, height=size)
pipe.enable_free_noise(context_length=spec.context_length, context_stride=spec.context_stride)
if way == "split":
    pipe.enable_free_noise_split_inference(spatial_split_size=256, temporal_split_size=16)
with torch.inference_mode(), PeakMemory(torch.device("cpu")) as memory:
    started = time.perf_counter()
    latents = pipe(prompt="a lighthouse in a storm", num_frames=spec.frames, width=size, height=size,
                   num_inference_steps=spec.steps, guidance_scale=spec.guidance,
                   generator=torch.Generator("cpu").manual_seed(0), output_type="latent").frames
    seconds = time.perf_counter() - started
growth = memory.figures["host_peak"] - memory.figures["host_start"]
print(json.dumps({"s": seconds, "growth_mib": growth, "latents": latents.double().sum().item()}))
"""


def bench_split_inference() -> dict:
    """diffusers' FreeNoise split inference (enable_free_noise_split_inference, its default
    split sizes) against none: the standard clip's denoising with the tiny model, time and
    the process's memory growth, fresh processes, interleaved. BENCH_SPLIT_SIZES (default
    256) names the frame sides; 512 takes minutes a run here."""
    result: dict = {}
    for size in [int(side) for side in os.environ.get("BENCH_SPLIT_SIZES", "256").split(",")]:
        figures: dict[str, list[dict]] = {"split": [], "whole": []}
        for _ in range(RUNS):
            for way in figures:
                output = subprocess.run(
                    [sys.executable, "-c", SPLIT, way, str(size)], check=True, cwd=ROOT, capture_output=True, text=True
                ).stdout
                figures[way].append(json.loads(output.strip().splitlines()[-1]))
        for way, runs in figures.items():
            result[f"split_{size}_{way}_denoise_s"] = statistics.median(run["s"] for run in runs)
            result[f"split_{size}_{way}_growth_mib"] = statistics.median(run["growth_mib"] for run in runs)
        result[f"split_{size}_same_latents"] = len({run["latents"] for runs in figures.values() for run in runs}) == 1
    return result


FIRST_STEP = """
import time
STARTED = time.time()
import json, os, sys
marks = {"process_start": STARTED}
import torch
marks["import_torch"] = time.time()
from animate_job.progress import Progress
from animate_job.renderer import Renderer
from infra.domain.storyboard import Storyboard, resolve_spec
marks["import_renderer"] = time.time()
renderer = Renderer.load("tiny", device="cpu")
marks["load"] = time.time()
storyboard = Storyboard.model_validate_json(open("examples/neva-at-dusk.json").read())
spec = resolve_spec(storyboard)
class FirstStep(Exception):
    pass
def reported(stage, _overall):
    if stage == "denoising":
        marks["first_step"] = time.time()
        raise FirstStep
try:
    renderer.render(spec, Progress(reported, min_interval_s=0.0))
except FirstStep:
    pass
launched, previous, parts = float(os.environ["BENCH_LAUNCHED_AT"]), None, {}
previous = launched
for name, at in marks.items():
    parts[name + "_s"] = at - previous
    previous = at
parts["to_first_step_s"] = marks["first_step"] - launched
parts["dynamo_imported"] = "torch._dynamo" in sys.modules
print(json.dumps(parts))
"""


def bench_first_step() -> dict:
    """The job's start by stage, to its first denoising step (the tiny model), in fresh processes."""
    runs = []
    for _ in range(RUNS):
        environment = dict(os.environ, BENCH_LAUNCHED_AT=repr(time.time()))
        output = subprocess.run(
            [sys.executable, "-c", FIRST_STEP], check=True, cwd=ROOT, capture_output=True, text=True, env=environment
        ).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    result = {f"start_{key}": statistics.median(run[key] for run in runs) for key in runs[0] if key.endswith("_s")}
    result["start_imports_torch_dynamo"] = any(run["dynamo_imported"] for run in runs)
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
        results |= bench_high_share(workdir)
        results |= bench_burn_in(workdir)
    results |= bench_decode_memory()
    results |= bench_split_inference()
    results |= bench_first_step()
    with open("/proc/loadavg") as handle:
        results["load_average_at_end"] = " ".join(handle.read().split()[:3])
    report("cpu", results, TARGETS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
