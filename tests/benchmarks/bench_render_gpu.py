"""GPU benchmark: a whole 15-second clip on the full-size architecture (`make bench-gpu`).

120 frames at 512x512 (64x64 latents), 4 steps without classifier-free guidance, as
the standard preset renders with AnimateDiff-Lightning; the full-size SD 1.5 UNet,
motion adapter, VAE and CLIP text encoder built from their configs with random
weights, so timing only, never quality. It reports:

- the FLOPs of one clip, counted by torch's FlopCounterMode on the meta device (shapes
  without data: exact, the same on any machine), and the FLOP bound on each GPU;
- the card's measured ceilings: a large bf16 matrix product and a device-to-device copy;
- seconds per warm clip (median of --runs) and peak memory, for the pipeline as
  diffusers runs it and for the renderer's default on CUDA (animate_job.gpu_speedups);
- one denoising step of the UNet per variant: fp32, fp16, bf16, each SDPA backend,
  cuDNN autotuning, channels_last, FreeNoise window batching, a CUDA graph;
- the VAE decode of 120 frames per chunk size and memory format;
- where the default path's GPU time goes (matrix and attention kernels against the
  rest), and from that split the clip projected onto an NVIDIA L4;
- the job's cold start by parts (bench_cold_start.py, in a fresh process);
- torch.compile, default and max-autotune, compile time apart (each in a process of
  its own, so that a compile that outlasts the budget is stopped).

Every part fits a time budget (--budget-s): a part that would not fit is skipped and
says so; results are written after every part, so a run cut short keeps what it
measured. bench-results/gpu.json, or --out.

    python tests/benchmarks/bench_render_gpu.py            # FLOPs anywhere; timings on CUDA
    python tests/benchmarks/bench_render_gpu.py --smoke    # every part on the CPU, tiny model, 64x64
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import torch  # noqa: E402
from diffusers.models.attention import FreeNoiseTransformerBlock  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from animate_job import gpu_speedups  # noqa: E402
from animate_job.renderer import Renderer  # noqa: E402
from animate_job.tiny import build_tiny_pipeline  # noqa: E402
from infra.domain.presets import TINY_MODEL  # noqa: E402
from infra.domain.storyboard import RenderSpec, Storyboard, resolve_spec  # noqa: E402
from tests.benchmarks.full_size import FULL_SIZE_MODEL, build_full_size_pipeline  # noqa: E402

# Published dense (no sparsity) bf16 tensor-core rates in TFLOP/s and memory bandwidths
# in TB/s, from NVIDIA's data sheets: H100 and H200 SXM (nvidia.com/en-us/data-center/h100,
# /h200: 1,979 TFLOPS bf16 with sparsity, 3.35 and 4.8 TB/s), H200 NVL (1,671 with
# sparsity), L4 (nvidia.com/en-us/data-center/l4: 242.5 with sparsity, 300 GB/s).
DATASHEET = {
    "H100 80GB HBM3": (989.0, 3.35),
    "H100 PCIe": (756.0, 2.0),
    "H200 NVL": (835.5, 4.8),
    "H200": (989.0, 4.8),
    "A100": (312.0, 2.0),
    "L4": (121.0, 0.3),
}
L4_BUDGET_GIB = 20  # of an L4's 24 GB (22.5 GiB): the CUDA context and the rest need the difference
TARGETS = {"clip_s": "<= 3 on an H100, warm", "l4_projected_clip_s": "<= 20", "to_first_step_s": "<= 15"}
# Kernels whose time scales with the tensor cores' rate; the rest with memory bandwidth.
MATRIX_KERNEL = re.compile(r"gemm|conv|cutlass|xmma|wgmma|nvjet|flash|fmha|attention|sm\d\d_|implicit|winograd", re.I)


class Budget:
    """Wall-clock seconds left for the whole benchmark."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()


class Results:
    """The figures so far, written to disk after every part."""

    def __init__(self, path: Path):
        self.path = path
        self.values: dict = {}
        path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, prefix: str, values: dict) -> None:
        self.values |= {f"{prefix}.{key}" if prefix else key: value for key, value in values.items()}
        self.path.write_text(json.dumps(self.values, indent=2))

    def part(self, name: str, needs_s: float, budget: Budget, reserve_s: float = 0.0):
        """Runs one part if about `needs_s` seconds are left after `reserve_s`; records why not."""
        results = self

        class Part(contextlib.AbstractContextManager):
            def __enter__(self):
                self.started = time.monotonic()
                self.run = budget.left() - reserve_s >= needs_s
                if not self.run:
                    results.add(name, {"skipped": f"needs ~{needs_s:.0f} s, {budget.left() - reserve_s:.0f} s left"})
                else:
                    print(f"[{time.strftime('%H:%M:%S')}] {name} ({budget.left():.0f} s left)", flush=True)
                return self

            def __exit__(self, kind, error, _traceback):
                if kind is not None and issubclass(kind, Exception):
                    results.add(name, {"error": f"{kind.__name__}: {str(error).splitlines()[0][:300]}"})
                    print(f"  {name} failed: {kind.__name__}: {error}", flush=True)
                    if isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error):
                        torch.cuda.empty_cache()
                    return True
                if self.run:
                    results.add(name, {"part_s": round(time.monotonic() - self.started, 2)})
                return False

        return Part()


def clip_flops(spec: RenderSpec) -> dict[str, float]:
    """FLOPs of one clip: every UNet step with FreeNoise, and the VAE decoding every frame."""
    pipeline = build_full_size_pipeline(torch.device("meta"), torch.bfloat16)
    pipeline.enable_free_noise(context_length=spec.context_length, context_stride=spec.context_stride)
    latent = (spec.height // pipeline.vae_scale_factor, spec.width // pipeline.vae_scale_factor)
    meta: dict[str, Any] = {"device": "meta", "dtype": torch.bfloat16}
    with torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            pipeline.unet(
                torch.empty(1, 4, spec.frames, *latent, **meta),
                torch.tensor(999.0, device="meta"),
                encoder_hidden_states=torch.empty(spec.frames, 77, 768, **meta),  # FreeNoise: one per frame
            )
        unet_step = counter.get_total_flops()
        counter = FlopCounterMode(display=False)
        with counter:
            pipeline.vae.decode(torch.empty(spec.frames, 4, *latent, **meta))
        decode = counter.get_total_flops()
    return {
        "unet_step_tflop": unet_step / 1e12,
        "vae_decode_tflop": decode / 1e12,
        "clip_tflop": (spec.steps * unet_step + decode) / 1e12,
    }


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device, runs: int, budget_s: float) -> dict:
    """Median seconds of `runs` calls after one warm-up call, fewer runs where the budget
    for this measurement demands; peak memory over the timed calls."""
    started = time.perf_counter()
    fn()
    synchronize(device)
    first = time.perf_counter() - started
    runs = max(1, min(runs, int((budget_s - first) / max(first, 1e-3))))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = []
    for _ in range(runs):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            seconds.append(start.elapsed_time(end) / 1000)
        else:
            begun = time.perf_counter()
            fn()
            seconds.append(time.perf_counter() - begun)
    result = {"s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds), "runs": runs}
    result["first_s"] = first
    result |= peak_memory(device)
    return result


def peak_memory(device: torch.device) -> dict:
    if device.type != "cuda":
        return {}
    return {
        "peak_allocated_gib": torch.cuda.max_memory_allocated(device) / 2**30,
        "peak_reserved_gib": torch.cuda.max_memory_reserved(device) / 2**30,
    }


def restore_diffusers(pipeline) -> None:
    """Undoes every speedup, so the pipeline runs as diffusers runs it."""
    for module in pipeline.unet.modules():
        if isinstance(module, FreeNoiseTransformerBlock):
            module.__class__ = FreeNoiseTransformerBlock
    pipeline.unet.to(memory_format=torch.contiguous_format)
    pipeline.vae.to(memory_format=torch.contiguous_format)
    torch.backends.cudnn.benchmark = False


def time_clips(renderer: Renderer, spec: RenderSpec, runs: int, budget_s: float) -> dict:
    """Whole warm clips through Renderer.render, frames on the host at the end."""
    device = renderer.device
    first = renderer.render(spec)  # warm-up: kernels chosen, cuDNN autotuned
    runs = max(1, min(runs, int(budget_s / max(sum(first.timings.values()) - first.timings["load_s"], 1e-3)) - 1))
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    totals, denoise, decode = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        rendered = renderer.render(spec)
        totals.append(time.perf_counter() - started)
        denoise.append(rendered.timings["denoise_s"])
        decode.append(rendered.timings["decode_s"])
    return {
        "clip_s": statistics.median(totals),
        "clip_min_s": min(totals),
        "clip_max_s": max(totals),
        "runs": runs,
        "denoise_s": statistics.median(denoise),
        "decode_s": statistics.median(decode),
        "frames": rendered.frames,
    } | peak_memory(device)


def unet_inputs(pipeline, spec: RenderSpec, device: torch.device, dtype: torch.dtype) -> tuple:
    latent = (spec.height // pipeline.vae_scale_factor, spec.width // pipeline.vae_scale_factor)
    generator = torch.Generator(device).manual_seed(0)
    channels = pipeline.unet.config.in_channels
    latents = torch.randn(1, channels, spec.frames, *latent, generator=generator, device=device, dtype=dtype)
    width = pipeline.text_encoder.config.hidden_size
    prompts = torch.randn(spec.frames, 77, width, generator=generator, device=device, dtype=dtype)
    return latents, torch.tensor(999.0, device=device), prompts


def step_variants(pipeline, spec, device, dtype, results: Results, budget: Budget, runs: int, reserve_s: float):
    """One UNet denoising step with FreeNoise, per variant; each starts from diffusers' own state."""
    cuda = device.type == "cuda"
    sdpa = {
        "sdpa_flash": SDPBackend.FLASH_ATTENTION,
        "sdpa_efficient": SDPBackend.EFFICIENT_ATTENTION,
        "sdpa_cudnn": SDPBackend.CUDNN_ATTENTION,
        "sdpa_math": SDPBackend.MATH,
    }
    variants: dict[str, dict[str, Any]] = {
        "bf16" if dtype == torch.bfloat16 else "fp32": {},
        "fp16": {"dtype": torch.float16},
        "fp32": {"dtype": torch.float32},
        **{name: {"sdpa": backend} for name, backend in sdpa.items()},
        "cudnn_benchmark": {"benchmark": True},
        "channels_last": {"benchmark": True, "channels_last": True},
        "windows": {"benchmark": True, "windows": True},
        "windows_all_at_once": {"benchmark": True, "windows": True, "group": 2**40},
        "windows_channels_last": {"benchmark": True, "windows": True, "channels_last": True},
        "windows_cuda_graph": {"benchmark": True, "windows": True, "graph": True},
    }
    if not cuda:
        variants = {name: options for name, options in variants.items() if "dtype" not in options}
    pipeline.enable_free_noise(context_length=spec.context_length, context_stride=spec.context_stride)
    for name, options in variants.items():
        slow = options.get("dtype") == torch.float32 or options.get("sdpa") == SDPBackend.MATH
        with results.part(f"step.{name}", 12 if slow else 6, budget, reserve_s) as part:
            if not part.run:
                continue
            restore_diffusers(pipeline)
            variant_dtype = options.get("dtype", dtype)
            pipeline.unet.to(dtype=variant_dtype)
            torch.backends.cudnn.benchmark = options.get("benchmark", False) and cuda
            if options.get("channels_last"):
                pipeline.unet.to(memory_format=torch.channels_last)
            if options.get("windows"):
                gpu_speedups.batch_free_noise_windows(pipeline)
            group = options.get("group")
            saved_group = gpu_speedups.WindowBatchedFreeNoiseBlock.max_group_elements
            if group:
                gpu_speedups.WindowBatchedFreeNoiseBlock.max_group_elements = group
            latents, timestep, prompts = unet_inputs(pipeline, spec, device, variant_dtype)

            def unet_step(latents=latents, timestep=timestep, prompts=prompts):
                return pipeline.unet(latents, timestep, encoder_hidden_states=prompts).sample

            step: Callable[[], object] = unet_step

            try:
                with torch.inference_mode(), sdpa_kernel(options.get("sdpa", list(sdpa.values()))):
                    if options.get("graph"):
                        step = cuda_graph(step, device)
                    measured = timed(step, device, 1 if slow else runs, budget_s=20 if slow else 15)
            finally:
                gpu_speedups.WindowBatchedFreeNoiseBlock.max_group_elements = saved_group
                pipeline.unet.to(dtype=dtype)
            measured |= bound(results, "unet_step_tflop", measured["s"], device)
            results.add(f"step.{name}", measured)
            del latents, prompts
            if cuda:
                torch.cuda.empty_cache()
    restore_diffusers(pipeline)


def cuda_graph(fn: Callable[[], object], device: torch.device) -> Callable[[], object]:
    """fn captured once as a CUDA graph (its inputs are fixed tensors); replays it."""
    if device.type != "cuda":
        raise RuntimeError("CUDA graphs need a CUDA GPU")
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(2):  # warm-up outside the graph: cuDNN autotuning, caches filled
            fn()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def decode_variants(pipeline, spec, device, dtype, results: Results, budget: Budget, runs: int, reserve_s: float):
    """The VAE decoding 120 frames of latents, per chunk size and memory format."""
    latent = (spec.height // pipeline.vae_scale_factor, spec.width // pipeline.vae_scale_factor)
    generator = torch.Generator(device).manual_seed(1)
    latents = torch.randn(1, 4, spec.frames, *latent, generator=generator, device=device, dtype=dtype)
    torch.backends.cudnn.benchmark = device.type == "cuda"
    variants = [(chunk, False) for chunk in (8, 16, 32, 60, 120)] + [(chunk, True) for chunk in (8, 16, 32)]
    for chunk, channels_last in variants:
        name = f"decode.chunk{chunk}" + (".channels_last" if channels_last else "")
        with results.part(name, 8, budget, reserve_s) as part:
            if not part.run:
                continue
            pipeline.vae.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)

            def decode(chunk: int = chunk) -> object:
                return pipeline.decode_latents(latents, decode_chunk_size=chunk)

            with torch.inference_mode():
                measured = timed(
                    decode,
                    device,
                    runs,
                    budget_s=12,
                )
            measured |= bound(results, "vae_decode_tflop", measured["s"], device)
            results.add(name, measured)
            if device.type == "cuda":
                torch.cuda.empty_cache()
    restore_diffusers(pipeline)


def bound(results: Results, flops_key: str, seconds: float, device: torch.device) -> dict:
    """The share of the card's dense bf16 peak that these FLOPs in these seconds reach."""
    tflop = results.values.get(flops_key)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    peak = next((rate for gpu, (rate, _) in DATASHEET.items() if gpu in name), None)
    figures = {}
    if tflop and peak:
        figures["of_bf16_peak"] = tflop / seconds / peak
    measured_peak = results.values.get("ceiling.bf16_matmul_tflops")
    if tflop and measured_peak:
        figures["of_measured_matmul"] = tflop / seconds / measured_peak
    return figures


def ceilings(device: torch.device) -> dict:
    """The card's bf16 matrix rate on random data and its copy bandwidth, measured."""
    size = 8192
    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    matmul = timed(lambda: a @ b, device, 10, budget_s=5)
    source = torch.randn(2**30, device=device, dtype=torch.bfloat16)  # 2 GiB
    target = torch.empty_like(source)
    copy = timed(lambda: target.copy_(source), device, 10, budget_s=5)
    return {
        "bf16_matmul_tflops": 2 * size**3 / matmul["s"] / 1e12,
        "copy_tb_per_s": 2 * source.numel() * source.element_size() / copy["s"] / 1e12,
    }


def kernel_split(fn: Callable[[], object], device: torch.device) -> tuple[dict, str]:
    """Where one call's GPU time goes: matrix and attention kernels, everything else, idle."""
    from torch.profiler import ProfilerActivity, profile

    fn()
    synchronize(device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    started = time.perf_counter()
    with profile(activities=activities) as profiler:
        fn()
        synchronize(device)
    wall = time.perf_counter() - started
    matrix = other = 0.0
    kernels = []
    for event in profiler.key_averages():
        seconds = getattr(event, "self_device_time_total", 0) / 1e6
        if seconds <= 0 or event.device_type != torch.autograd.DeviceType.CUDA:
            continue
        kernels.append((seconds, event.count, event.key))
        if MATRIX_KERNEL.search(event.key):
            matrix += seconds
        else:
            other += seconds
    kernels.sort(reverse=True)
    table = "\n".join(f"{seconds * 1e3:10.2f} ms {count:6d}x  {name[:140]}" for seconds, count, name in kernels[:25])
    return {"wall_s": wall, "matrix_s": matrix, "other_s": other, "idle_s": max(0.0, wall - matrix - other)}, table


def l4_projection(step: dict, decode: dict, steps: int, clip_s: float, device_name: str) -> dict:
    """The clip on an L4: matrix-kernel time scaled by the two cards' dense bf16 rates, the
    rest of the GPU time by their memory bandwidths, the rest of the clip unchanged."""
    this = next((figures for gpu, figures in DATASHEET.items() if gpu in device_name), None)
    if this is None:
        return {}
    rate_ratio, bandwidth_ratio = this[0] / DATASHEET["L4"][0], this[1] / DATASHEET["L4"][1]
    matrix = steps * step["matrix_s"] + decode["matrix_s"]
    other = steps * step["other_s"] + decode["other_s"]
    if matrix + other == 0:
        return {}
    host = max(0.0, clip_s - matrix - other)  # the GPU idle, and the parts not profiled (prompts, frames to host)
    return {
        "rate_ratio": rate_ratio,
        "bandwidth_ratio": bandwidth_ratio,
        "matrix_share_of_gpu_time": matrix / (matrix + other),
        "l4_projected_clip_s": matrix * rate_ratio + other * bandwidth_ratio + host,
        "l4_projected_if_all_matrix_s": clip_s * rate_ratio,
    }


def profile(pipeline, spec: RenderSpec, device: torch.device, dtype: torch.dtype, results: Results, table: Path):
    """The default path's GPU time by kind, for one step and one decode; the L4 projection from it."""
    gpu_speedups.prepare(pipeline)
    pipeline.enable_free_noise(context_length=spec.context_length, context_stride=spec.context_stride)
    gpu_speedups.batch_free_noise_windows(pipeline)
    latents, timestep, prompts = unet_inputs(pipeline, spec, device, dtype)
    chunk = gpu_speedups.decode_chunk_size(spec.decode_chunk_size)
    with torch.inference_mode():
        step, step_table = kernel_split(lambda: pipeline.unet(latents, timestep, encoder_hidden_states=prompts), device)
        decode, decode_table = kernel_split(lambda: pipeline.decode_latents(latents, decode_chunk_size=chunk), device)
    name = results.values["device"]
    table.write_text(
        f"{name}: one UNet step, the default path\n{step_table}\n\nthe VAE decode, 120 frames\n{decode_table}\n"
    )
    results.add("profile.step", step)
    results.add("profile.decode", decode)
    clip_s = results.values.get("clip.default.clip_s")
    if clip_s:
        results.add("", l4_projection(step, decode, spec.steps, clip_s, name))


def subprocess_part(results: Results, name: str, command: list[str], out: Path, budget: Budget, needs_s: float):
    """A part in a process of its own, stopped at the budget; what it wrote is kept."""
    with results.part(name, needs_s, budget) as part:
        if not part.run:
            return
        limit = budget.left()
        try:
            finished = subprocess.run(command, timeout=limit, cwd=ROOT, capture_output=True, text=True)
            if finished.returncode:
                results.add(name, {"error": (finished.stderr.strip().splitlines() or ["?"])[-1][:300]})
                print(finished.stderr[-3000:], flush=True)
        except subprocess.TimeoutExpired:
            results.add(name, {"stopped": f"at the budget, after {limit:.0f} s"})
        if out.is_file():
            results.add(name, json.loads(out.read_text()))


def compile_part(args) -> int:
    """In its own process: the default path with the UNet and the VAE decoder compiled."""
    out = Path(args.out)
    figures: dict = {"mode": args.compile}

    def write():
        out.write_text(json.dumps(figures, indent=2))

    _device, _dtype, spec, renderer = setup(args)
    renderer.pipeline.unet.compile(mode=args.compile)
    renderer.pipeline.vae.decoder.compile(mode=args.compile)
    started = time.perf_counter()
    first = renderer.render(spec)
    figures |= {"first_clip_s": time.perf_counter() - started} | {f"first_{k}": v for k, v in first.timings.items()}
    write()
    measured = time_clips(renderer, spec, args.runs, budget_s=60)
    measured.pop("frames")
    figures |= measured
    figures["compile_s"] = figures["first_clip_s"] - figures["clip_s"]
    write()
    return 0


def setup(args) -> tuple:
    smoke = args.smoke or not torch.cuda.is_available()
    device = torch.device("cpu" if smoke else "cuda")
    dtype = torch.float32 if smoke else torch.bfloat16
    storyboard = Storyboard.model_validate_json((ROOT / "examples/neva-at-dusk.json").read_text())
    if smoke:
        model, size = TINY_MODEL, 64
        pipeline = build_tiny_pipeline()
    else:
        model, size = FULL_SIZE_MODEL, 512
        pipeline = build_full_size_pipeline(device, dtype)
    spec = resolve_spec(storyboard, "standard", base_model=model, width=size, height=size)
    if smoke:
        spec = spec.model_copy(update={"steps": 1})
    renderer = Renderer(pipeline, base_model=model, motion_adapter=None, device=device, gpu_speedups=not smoke)
    if smoke:  # the CPU never takes the speedups by itself; the smoke run checks they work
        gpu_speedups.prepare(pipeline)
        renderer.gpu_speedups = True
    return device, dtype, spec, renderer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="every part on the CPU with the tiny model at 64x64")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--budget-s", type=float, default=900, help="wall-clock seconds for everything")
    parser.add_argument("--out", default=str(ROOT / "bench-results"), help="folder for gpu.json and the rest")
    parser.add_argument("--compile", choices=["default", "max-autotune"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compile:
        return compile_part(args)

    budget = Budget(args.budget_s)
    folder = Path(args.out)
    results = Results(folder / ("gpu-smoke.json" if args.smoke else "gpu.json"))
    storyboard = Storyboard.model_validate_json((ROOT / "examples/neva-at-dusk.json").read_text())
    full_spec = resolve_spec(storyboard, "standard", base_model=FULL_SIZE_MODEL)
    results.add("", {"torch": torch.__version__, "frames": full_spec.frames, "steps": full_spec.steps})
    with results.part("flops", 5, budget):
        results.add("", clip_flops(full_spec))
        for gpu, (rate, _) in DATASHEET.items():
            results.add("flop_bound_s", {gpu: results.values["clip_tflop"] / rate})
    if not args.smoke and not torch.cuda.is_available():
        print("no CUDA GPU here: FLOPs only (--smoke runs every part on the CPU)")
        return show(results)

    device, dtype, spec, renderer = setup(args)
    pipeline = renderer.pipeline
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    results.add("", {"device": name, "dtype": str(dtype).removeprefix("torch."), "size": f"{spec.width}x{spec.height}"})
    if device.type == "cuda":
        results.add("", {"nvidia_smi": nvidia_smi()})
        with results.part("ceiling", 10, budget):
            results.add("ceiling", ceilings(device))

    if device.type == "cuda":  # whole clips within what an L4 offers; cuDNN's autotuning picks within it too
        total = torch.cuda.get_device_properties(device).total_memory
        torch.cuda.set_per_process_memory_fraction(L4_BUDGET_GIB * 2**30 / total)
        results.add("", {"clip_memory_cap_gib": L4_BUDGET_GIB})
    baseline = Renderer(pipeline, base_model=spec.base_model, motion_adapter=None, device=device, gpu_speedups=False)
    restore_diffusers(pipeline)
    with results.part("clip.diffusers", 30, budget):
        measured = time_clips(baseline, spec, args.runs, budget_s=40)
        reference = measured.pop("frames")
        results.add("clip.diffusers", measured | bound(results, "clip_tflop", measured["clip_s"], device))
    with results.part("clip.default", 30, budget):
        renderer = Renderer(pipeline, base_model=spec.base_model, motion_adapter=None, device=device)
        if args.smoke:
            gpu_speedups.prepare(pipeline)
            renderer.gpu_speedups = True
        measured = time_clips(renderer, spec, args.runs, budget_s=40)
        frames = measured.pop("frames")
        difference = frames.astype("float32") - reference.astype("float32")
        measured["frames_rel_diff_vs_diffusers"] = float(
            (difference**2).sum() ** 0.5 / (reference.astype("float32") ** 2).sum() ** 0.5
        )
        measured["frames_max_level_diff_vs_diffusers"] = int(abs(difference).max())
        results.add("clip.default", measured | bound(results, "clip_tflop", measured["clip_s"], device))
    with results.part("clip.default_channels_last", 30, budget):  # the default, and channels_last
        pipeline.unet.to(memory_format=torch.channels_last)
        pipeline.vae.to(memory_format=torch.channels_last)
        measured = time_clips(renderer, spec, args.runs, budget_s=40)
        measured.pop("frames")
        results.add("clip.default_channels_last", measured | bound(results, "clip_tflop", measured["clip_s"], device))
    restore_diffusers(pipeline)
    with results.part("profile", 15, budget):
        profile(pipeline, spec, device, dtype, results, folder / "gpu-profile.txt")
    restore_diffusers(pipeline)
    if device.type == "cuda":
        torch.cuda.set_per_process_memory_fraction(1.0)

    here = Path(__file__).parent
    smoke = ["--smoke"] if args.smoke else []
    cold = folder / "gpu-cold-start.json"
    subprocess_part(
        results,
        "cold_start",
        [sys.executable, str(here / "bench_cold_start.py"), "--out", str(cold), *smoke],
        cold,
        budget,
        60,
    )
    step_variants(pipeline, spec, device, dtype, results, budget, args.runs, reserve_s=0)
    decode_variants(pipeline, spec, device, dtype, results, budget, args.runs, reserve_s=0)
    del pipeline, renderer, baseline
    if device.type == "cuda":
        torch.cuda.empty_cache()
    for mode, needs_s in (("default", 120), ("max-autotune", 400)):
        out = folder / f"gpu-compile-{mode}.json"
        command = [sys.executable, __file__, "--compile", mode, "--out", str(out), "--runs", "3", *smoke]
        subprocess_part(results, f"compile.{mode}", command, out, budget, needs_s)
    return show(results)


def nvidia_smi() -> str:
    query = "name,driver_version,power.limit,clocks.max.sm,memory.total"
    try:
        return subprocess.run(
            ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"nvidia-smi: {error}"


def show(results: Results) -> int:
    from tests.benchmarks.report import report

    values = results.values
    name = "gpu-smoke" if results.path.stem == "gpu-smoke" else "gpu"
    report(name, values, TARGETS, digits=4, path=results.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
