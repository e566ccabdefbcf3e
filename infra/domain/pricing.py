"""What each billed unit costs: one table, dated and sourced, read when an event is made.

Every usage event stores PRICING_VERSION beside its cost, so a report can tell which
prices a figure was computed with. Prices change: update a row, its date and its
source together, and bump PRICING_VERSION.

Cloud prices are USD list prices in Tier 1 regions (us-central1, europe-west1/4, where
Cloud Run has L4 GPUs), without committed-use discounts or free tiers: the free tier
only lowers a bill, so these figures err high.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.domain.presets import CLIP_LENGTHS

PRICING_VERSION = "2026-11-21"


@dataclass(frozen=True)
class UnitPrice:
    usd: float
    unit: str
    as_of: str
    source: str


@dataclass(frozen=True)
class TokenPrice:
    input_per_million_usd: float
    output_per_million_usd: float
    as_of: str
    source: str


CLOUD_RUN = "cloud.google.com/run/pricing (jobs and instance-based billing, Tier 1)"
CLOUD_STORAGE = "cloud.google.com/storage/pricing (Standard storage; Premium Tier internet egress, first TiB)"

UNIT_PRICES: dict[str, UnitPrice] = {
    # A GPU job bills the GPU, its vCPUs and its memory for every second a task runs.
    "cloud_run_l4_gpu_second": UnitPrice(
        0.0001867, "GPU-second (NVIDIA L4, no zonal redundancy)", "2025-06-02", CLOUD_RUN
    ),
    "cloud_run_vcpu_second": UnitPrice(0.000018, "vCPU-second", "2025-06-02", CLOUD_RUN),
    "cloud_run_gib_second": UnitPrice(0.000002, "GiB-second of memory", "2025-06-02", CLOUD_RUN),
    "storage_gib_month": UnitPrice(0.020, "GiB-month stored", "2025-01-01", CLOUD_STORAGE),
    "egress_gib": UnitPrice(0.12, "GiB sent to the internet", "2025-01-01", CLOUD_STORAGE),
}

# OpenAI's published list prices for standard (non-batch) API calls.
TOKEN_PRICES: dict[str, TokenPrice] = {
    "gpt-4o-mini": TokenPrice(0.15, 0.60, "2024-07-18", "openai.com/api/pricing (gpt-4o-mini launch price)"),
    "gpt-4o": TokenPrice(2.50, 10.00, "2024-10-01", "openai.com/api/pricing"),
    # The moderation endpoint is free of charge.
    "omni-moderation-latest": TokenPrice(0.0, 0.0, "2024-09-26", "platform.openai.com/docs/guides/moderation"),
}

# The render job's shape: Cloud Run's minimum for an L4 (terraform sets the same).
JOB_VCPU = 4
JOB_MEMORY_GIB = 16

# The seed's economic model, which the reports and the stage budgets compare against.
SEED_COST_PER_CLIP_USD = (0.40, 0.55)
STAGE_MONTHLY_USD = {"internal": (57, 73), "beta": (220, 310), "production": (1800, 2270)}
# What a clip should cost on the cloud: the job's shape for this long per clip, model
# load included. The FLOP count of a standard clip bounds the denoising at 8 s on an
# L4 (tests/benchmarks/full_size.py); loading weights from a mounted bucket and
# encoding take most of the rest.
TARGET_RENDER_SECONDS_L4 = 90.0


@dataclass(frozen=True)
class ProjectedRender:
    """A render job's seconds on a GPU it was not measured on, by part, for a 15-second clip.
    The parts named in `per_frame` grow with the clip's frames (FreeNoise denoises a window
    every stride frames, the VAE decodes and ffmpeg encodes every frame); the others are paid
    once a job."""

    parts: tuple[tuple[str, float], ...]
    per_frame: frozenset[str]
    as_of: str
    source: str

    @property
    def seconds(self) -> float:
        return self.seconds_for(15)

    def seconds_for(self, clip_seconds: int) -> float:
        """The job's seconds for a clip of this length: the per-frame parts scaled from 15 s."""
        return sum(seconds * (clip_seconds / 15 if name in self.per_frame else 1) for name, seconds in self.parts)


# What one standard clip (120 frames at 512x512, 4 steps) is projected to take on an L4,
# job start included; docs/gpu-speed.md has every figure. `make bench-gpu` timed each
# part on an NVIDIA H200 SXM with the full-size model (random weights). GPU time moves to
# the L4 by NVIDIA's published dense bf16 rates (H200 989, L4 121 TFLOP/s) for matrix
# and attention kernels, and by the memory bandwidths (4.8 and 0.3 TB/s) for the rest;
# host work is taken as measured. Not in it: the container's own start and the uploads.
L4_PROJECTED_RENDER = ProjectedRender(
    parts=(
        ("process start, imports, CUDA init, model load (host, measured)", 33.2),
        ("first step's one-off work: cuDNN autotuning, first prompts (host, measured)", 5.9),
        ("warm clip: 4 UNet steps, VAE decode, frames to host (projected)", 69.7),
        ("H.264 encode at 8 fps (CPU, make bench)", 1.5),
    ),
    per_frame=frozenset(
        ("warm clip: 4 UNet steps, VAE decode, frames to host (projected)", "H.264 encode at 8 fps (CPU, make bench)")
    ),
    as_of="2026-11-30",
    source="make bench-gpu on an NVIDIA H200 (docs/gpu-speed.md); NVIDIA L4 and H200 data sheets "
    "(nvidia.com/en-us/data-center/l4, /h200)",
)


def _price(name: str) -> float:
    return UNIT_PRICES[name].usd


def token_cost(model: str, tokens_in: int, tokens_out: int) -> tuple[float, str]:
    """The cost of one model call in USD, and the pricing it came from.

    A model missing from the table (an OpenAI-compatible server of one's own) costs 0
    and says so, rather than borrowing another model's price.
    """
    price = TOKEN_PRICES.get(model.split("-20")[0])  # a dated snapshot ("gpt-4o-2024-08-06") has its model's price
    if price is None:
        return 0.0, f"{PRICING_VERSION}:unpriced-model"
    cost = tokens_in * price.input_per_million_usd / 1e6 + tokens_out * price.output_per_million_usd / 1e6
    return cost, PRICING_VERSION


def render_cost(wall_seconds: float, gpu_seconds: float) -> float:
    """One render attempt as a Cloud Run job bills it: vCPUs and memory for the whole
    attempt, the GPU for the seconds it had one (none for a render on a CPU)."""
    shape = JOB_VCPU * _price("cloud_run_vcpu_second") + JOB_MEMORY_GIB * _price("cloud_run_gib_second")
    return wall_seconds * shape + gpu_seconds * _price("cloud_run_l4_gpu_second")


def egress_cost(size_bytes: int) -> float:
    """Sending a file of this size to the internet once."""
    return size_bytes / 2**30 * _price("egress_gib")


def storage_cost_per_month(size_bytes: int) -> float:
    return size_bytes / 2**30 * _price("storage_gib_month")


def target_cost_per_clip() -> float:
    """The cloud target for one clip: a render of TARGET_RENDER_SECONDS_L4 on an L4."""
    return render_cost(TARGET_RENDER_SECONDS_L4, TARGET_RENDER_SECONDS_L4)


def projected_cost_per_clip(clip_seconds: int = 15) -> float:
    """One standard clip of this length as the job would bill it on an L4, from L4_PROJECTED_RENDER."""
    seconds = L4_PROJECTED_RENDER.seconds_for(clip_seconds)
    return render_cost(seconds, seconds)


def cost_per_animation_second(cost_usd: float, clip_seconds: float) -> float:
    """What a second of finished animation cost: a clip's cost over its length. The job's
    start is paid once a clip, so a longer clip's second costs less."""
    if clip_seconds <= 0:
        raise ValueError(f"a clip's length is above 0 seconds, not {clip_seconds}")
    return cost_usd / clip_seconds


def price_list() -> list[tuple[int, float, float]]:
    """The pricing table's rows for the clip lengths a plan may allow: seconds, the
    projected cost of one standard clip on an L4, and of each second of it."""
    return [
        (length, projected_cost_per_clip(length), cost_per_animation_second(projected_cost_per_clip(length), length))
        for length in CLIP_LENGTHS
    ]
