"""GPU benchmark: a whole 15-second clip on the full-size architecture (`make bench-gpu`).

120 frames at 512x512 (64x64 latents), 4 steps without classifier-free guidance, as
the standard preset renders with AnimateDiff-Lightning; bf16 and PyTorch's SDPA
attention; random weights, so timing only. It reports:

- the FLOPs of one clip, counted by torch's FlopCounterMode on the meta device
  (shapes without data: exact, free, the same on any machine), and the FLOP bound
  at each GPU's dense bf16 peak;
- on a CUDA GPU, seconds per clip and per frame-step for the variants eager,
  channels_last, and torch.compile with channels_last, the peak memory, the
  efficiency reached, and a projection to an NVIDIA L4 at that efficiency.

    python tests/benchmarks/bench_render_gpu.py            # FLOPs anywhere; timings on CUDA
    python tests/benchmarks/bench_render_gpu.py --smoke    # the timing code at 64x64 on the CPU
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import torch  # noqa: E402
from full_size import FULL_SIZE_MODEL, build_full_size_pipeline  # noqa: E402
from report import report  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from animate_job.renderer import Renderer  # noqa: E402
from infra.domain.storyboard import RenderSpec, Storyboard, resolve_spec  # noqa: E402

# Dense bf16 tensor-core peaks in TFLOP/s from NVIDIA's data sheets (no sparsity).
PEAK_BF16_TFLOPS = {"H100 80GB HBM3": 989.0, "H100 PCIe": 756.0, "H200": 989.0, "A100": 312.0, "L4": 121.0}
TARGETS = {"clip_s": "<= 5 on an H100, warm", "l4_projected_s": "<= 25"}


def clip_flops(spec: RenderSpec) -> dict[str, float]:
    """FLOPs of one clip: every UNet step with FreeNoise, and the VAE decoding every frame."""
    pipeline = build_full_size_pipeline(torch.device("meta"), torch.bfloat16)
    pipeline.enable_free_noise(context_length=spec.context_length, context_stride=spec.context_stride)
    latent = (spec.height // pipeline.vae_scale_factor, spec.width // pipeline.vae_scale_factor)
    meta = {"device": "meta", "dtype": torch.bfloat16}
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


def time_clip(renderer: Renderer, spec: RenderSpec, runs: int) -> dict[str, float]:
    renderer.render(spec)  # warm-up: kernels chosen, torch.compile's graphs built
    totals, denoise = [], []
    if renderer.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(runs):
        started = time.perf_counter()
        rendered = renderer.render(spec)
        totals.append(time.perf_counter() - started)
        denoise.append(rendered.timings["denoise_s"])
    result = {
        "clip_s": statistics.median(totals),
        "denoise_s": statistics.median(denoise),
        "s_per_frame_step": statistics.median(denoise) / (spec.frames * spec.steps),
    }
    if renderer.device.type == "cuda":
        result["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="run the timing code at 64x64, 1 step, on the CPU")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--variants", default="eager,channels_last,compile_channels_last")
    args = parser.parse_args()

    storyboard = Storyboard.model_validate_json((ROOT / "examples/neva-at-dusk.json").read_text())
    size = 64 if args.smoke else 512
    spec = resolve_spec(storyboard, "standard", base_model=FULL_SIZE_MODEL, width=size, height=size)
    if args.smoke:
        spec = spec.model_copy(update={"steps": 1})
    results: dict = {
        "torch": torch.__version__,
        "size": f"{size}x{size}",
        "frames": spec.frames,
        "steps": spec.steps,
        "guidance": spec.guidance,
    }
    results |= clip_flops(spec)
    for gpu, peak in PEAK_BF16_TFLOPS.items():
        results[f"flop_bound_s.{gpu}"] = results["clip_tflop"] / peak

    device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
    if device.type == "cuda" or args.smoke:
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        started = time.perf_counter()
        pipeline = build_full_size_pipeline(device, dtype)
        results["build_s"] = time.perf_counter() - started
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        results["device"], results["dtype"] = name, str(dtype).removeprefix("torch.")
        peak = next((p for gpu, p in PEAK_BF16_TFLOPS.items() if gpu in name), None)
        renderer = Renderer(pipeline, base_model=FULL_SIZE_MODEL, motion_adapter=None, device=device)
        for variant in ["eager"] if args.smoke else args.variants.split(","):
            if "channels_last" in variant:
                pipeline.unet.to(memory_format=torch.channels_last)
                pipeline.vae.to(memory_format=torch.channels_last)
            if "compile" in variant:
                pipeline.unet.compile()
                pipeline.vae.decoder.compile()
            measured = time_clip(renderer, spec, args.runs)
            if peak:
                efficiency = results["clip_tflop"] / measured["clip_s"] / peak
                measured["efficiency"] = efficiency
                measured["l4_projected_s"] = results["clip_tflop"] / (PEAK_BF16_TFLOPS["L4"] * efficiency)
            results |= {f"{variant}.{key}": value for key, value in measured.items()}
    else:
        print("no CUDA GPU here: FLOPs only (use --smoke to exercise the timing code on the CPU)")

    report("gpu-smoke" if args.smoke else "gpu", results, TARGETS, digits=4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
