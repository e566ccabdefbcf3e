"""The render job's cold start, by parts, on a CUDA GPU (run by bench_render_gpu.py).

The full-size architecture with random weights is saved as the default models are
published (a Stable Diffusion 1.5 folder in diffusers' layout, fp16, and the motion
adapter as one .safetensors file, as AnimateDiff-Lightning is), the page cache is
dropped where the machine allows it (so the files come from the disk, as from a
mounted bucket on a fresh instance), and a fresh Python process then does what the
job does, timing each part:

    process start   the interpreter, until its first line runs
    import torch    and the renderer's imports (diffusers, transformers, the contract)
    CUDA init       the driver and the context, one tensor on the GPU
    load            Renderer.load: the job's own loader, from the local folder
    first step      prompts encoded, latents drawn, the first denoising step done
    first clip      the rest of that first clip, frames on the host

    python tests/benchmarks/bench_cold_start.py --out cold.json [--model-dir DIR] [--smoke]
"""

from __future__ import annotations

import time

STARTED = time.time()  # before any other import: the child's first line

import argparse  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def child(model: str, adapter: str, device: str) -> dict:
    """The job's start, in this fresh process. Times are seconds since the parent started it."""
    launched = float(os.environ["BENCH_LAUNCHED_AT"])
    marks = {"process_start": STARTED}
    import torch

    marks["import_torch"] = time.time()
    sys.path.insert(0, str(ROOT))
    from animate_job.progress import Progress
    from animate_job.renderer import Renderer
    from infra.domain.storyboard import Storyboard, resolve_spec

    marks["import_renderer"] = time.time()
    if device == "cuda":
        torch.cuda.init()
        torch.empty(1, device="cuda")
        torch.cuda.synchronize()
    marks["cuda_init"] = time.time()
    with cProfile.Profile() as profiler:  # where the load goes, by function; little overhead on bulk copies
        renderer = Renderer.load(model, adapter, device=device)
        if device == "cuda":
            torch.cuda.synchronize()
    marks["load"] = time.time()
    storyboard = Storyboard.model_validate_json((ROOT / "examples/neva-at-dusk.json").read_text())
    size = 512 if device == "cuda" else 64
    spec = resolve_spec(storyboard, "standard", base_model=model, motion_adapter=adapter, width=size, height=size)

    def reported(stage: str, _overall: float) -> None:
        if stage == "denoising" and "first_step" not in marks:
            if device == "cuda":
                torch.cuda.synchronize()
            marks["first_step"] = time.time()

    renderer.render(spec, Progress(reported, min_interval_s=0.0))
    marks["first_clip"] = time.time()
    parts: dict[str, object] = {}
    previous = launched
    for name, at in marks.items():
        parts[f"{name}_s"] = at - previous
        previous = at
    parts["to_first_step_s"] = marks["first_step"] - launched
    parts["to_first_clip_s"] = marks["first_clip"] - launched
    parts["renderer_load_s"] = renderer.load_s
    parts["load_by_function"] = load_by_function(profiler)
    parts["gpu_speedups"] = renderer.gpu_speedups
    return parts


def load_by_function(profiler: cProfile.Profile, count: int = 15) -> list[str]:
    """The functions the load spent most time in (their own time), as 'seconds calls name'."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]  # undocumented, but the only raw table
    rows = sorted(((own, calls, name) for name, (_, calls, own, _, _) in stats.items()), reverse=True)[:count]
    return [
        f"{own:7.2f} s {calls:6d}x {file.rsplit('/', 1)[-1]}:{line} {function}"
        for own, calls, (file, line, function) in rows
    ]


def drop_page_cache() -> str:
    """Asks the kernel to forget cached file pages (root on Linux only); says what happened."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return "dropped"
    except OSError as error:
        return f"not dropped ({error.strerror}): the files may come from memory"


def parent(args) -> int:
    sys.path.insert(0, str(ROOT))
    import torch

    from animate_job.tiny import build_tiny_parts
    from tests.benchmarks.full_size import build_full_size_parts, save_as_published

    smoke = args.smoke or not torch.cuda.is_available()
    device = "cpu" if smoke else "cuda"
    figures: dict = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu"}
    with tempfile.TemporaryDirectory(prefix="cold-start-", dir=args.model_dir) as folder:
        started = time.perf_counter()
        parts = build_tiny_parts() if smoke else build_full_size_parts(torch.device(device))
        model, adapter = save_as_published(parts, Path(folder), dtype=torch.float32 if smoke else torch.float16)
        del parts
        figures["save_s"] = time.perf_counter() - started
        files = [path for path in Path(folder).rglob("*") if path.is_file()]
        figures["model_gib"] = sum(path.stat().st_size for path in files) / 2**30
        if device == "cuda":
            torch.cuda.empty_cache()
        figures["page_cache"] = drop_page_cache()
        environment = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error", DIFFUSERS_VERBOSITY="error")
        environment["BENCH_LAUNCHED_AT"] = repr(time.time())
        finished = subprocess.run(
            [sys.executable, __file__, "--child", str(model), str(adapter), device],
            env=environment,
            capture_output=True,
            text=True,
        )
        if finished.returncode:
            print(finished.stderr[-3000:], file=sys.stderr)
            return 1
        figures |= json.loads(finished.stdout.strip().splitlines()[-1])
    Path(args.out).write_text(json.dumps(figures, indent=2))
    for key, value in figures.items():
        print(f"{key:<22} {value:.3f}" if isinstance(value, float) else f"{key:<22} {value}")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        model, adapter, device = sys.argv[2:5]
        print(json.dumps(child(model, adapter, device)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "gpu-cold-start.json"))
    parser.add_argument("--model-dir", help="where to save the model (default: the system's temporary folder)")
    parser.add_argument("--smoke", action="store_true", help="the tiny model on the CPU")
    return parent(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
