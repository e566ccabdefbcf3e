"""Render presets and model defaults: data, read by the contract and the renderer.

A preset trades speed for quality. The values suit the default real models, Stable
Diffusion 1.5 with the AnimateDiff-Lightning motion adapter, which is distilled for
few steps without classifier-free guidance and wants an Euler scheduler with
"trailing" timesteps. ByteDance publishes one Lightning file per step count (1, 2, 4
and 8 steps, each distilled for exactly that many); each preset names the file made for
its own steps, and `lightning_adapter_for` takes it from beside the one configured.
To use the original AnimateDiff v1-5 adapters instead, use a
preset with the DDIM scheduler, about 25 steps and guidance near 7.5.

At guidance 1.0 diffusers runs no classifier-free guidance, so the negative prompt
has no effect; it takes effect only in presets with guidance above 1.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PresetName = Literal["draft", "standard", "high"]
DEFAULT_PRESET: PresetName = "standard"

#: The frame's shape: widescreen, upright for a phone, or square.
Aspect = Literal["16:9", "9:16", "1:1"]
ASPECTS: tuple[Aspect, ...] = ("16:9", "9:16", "1:1")
DEFAULT_ASPECT: Aspect = "1:1"

# Frame sizes per aspect. Stable Diffusion 1.5 was trained at 512x512: it composes well
# near that many pixels, and its UNet halves the 1/8-size latent three times, so sides
# are multiples of 64. 16:9 has no exact multiple-of-64 size near 512²; 704x384 (1.83:1,
# 1.03x 512² pixels) is nearer to 16:9 and to 512² than 640x384 (1.67:1, 0.94x), and the
# player letterboxes the last 3%. The draft keeps its smaller pixel budget (384²):
# 448x256 (1.75:1). Portrait is the same sizes turned.
STANDARD_SIZES: dict[Aspect, tuple[int, int]] = {"1:1": (512, 512), "16:9": (704, 384), "9:16": (384, 704)}
DRAFT_SIZES: dict[Aspect, tuple[int, int]] = {"1:1": (384, 384), "16:9": (448, 256), "9:16": (256, 448)}

#: The clip lengths a storyboard may ask for, in seconds. 15 s is every plan's; 30 and 60 s
#: (FreeNoise over 240 and 480 frames) come with a plan an admin assigns (infra.domain.plan).
ClipSeconds = Literal[15, 30, 60]
CLIP_LENGTHS: tuple[ClipSeconds, ...] = (15, 30, 60)
DEFAULT_CLIP_SECONDS: ClipSeconds = 15
CLIP_SECONDS = float(DEFAULT_CLIP_SECONDS)
RENDER_FPS = 8  # AnimateDiff's motion modules were trained at about 8 fps

TINY_MODEL = "tiny"
# The tiny model renders at its own small sizes unless a size is asked for: at the
# presets' 512x512 its random weights would cost minutes on a CPU for nothing.
TINY_MODEL_SIZES: dict[Aspect, tuple[int, int]] = {"1:1": (64, 64), "16:9": (112, 64), "9:16": (64, 112)}
TINY_MODEL_SIZE = TINY_MODEL_SIZES["1:1"]

DEFAULT_BASE_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
DEFAULT_MOTION_ADAPTER = "ByteDance/AnimateDiff-Lightning/animatediff_lightning_4step_diffusers.safetensors"


class Scheduler(BaseModel):
    """A diffusers scheduler class and the settings it is built with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Literal["EulerDiscreteScheduler", "DDIMScheduler", "LCMScheduler"]
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)


class Preset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: int
    #: The AnimateDiff-Lightning file distilled for `steps` (see lightning_adapter_for).
    lightning_file: str
    sizes: dict[Aspect, tuple[int, int]]  # width, height
    guidance: float
    scheduler: Scheduler
    context_stride: int  # FreeNoise window stride in frames: smaller is smoother and slower
    output_fps: int  # 8 writes the rendered frames; 24 interpolates between them
    decode_chunk_size: int  # frames decoded by the VAE at once: bounds peak memory


def lightning_file(steps: int) -> str:
    """The name ByteDance/AnimateDiff-Lightning publishes its diffusers file for `steps` under."""
    return f"animatediff_lightning_{steps}step_diffusers.safetensors"


_LIGHTNING_FILE = re.compile(r"animatediff_lightning_\d+step_diffusers\.safetensors$")


def lightning_adapter_for(motion_adapter: str | None, preset: Preset) -> str | None:
    """The motion adapter a preset renders with: where the configured adapter is an
    AnimateDiff-Lightning file (a path or a hub id), the file beside it distilled for the
    preset's steps; any other adapter (a directory, AnimateDiff v1-5) as it is."""
    if motion_adapter is None or not _LIGHTNING_FILE.search(motion_adapter):
        return motion_adapter
    return _LIGHTNING_FILE.sub(preset.lightning_file, motion_adapter)


_LIGHTNING = Scheduler(
    name="EulerDiscreteScheduler",
    options={"timestep_spacing": "trailing", "beta_schedule": "linear"},
)

PRESETS: dict[str, Preset] = {
    "draft": Preset(
        steps=2,
        lightning_file=lightning_file(2),
        sizes=DRAFT_SIZES,
        guidance=1.0,
        scheduler=_LIGHTNING,
        context_stride=8,
        output_fps=8,
        decode_chunk_size=16,
    ),
    "standard": Preset(
        steps=4,
        lightning_file=lightning_file(4),
        sizes=STANDARD_SIZES,
        guidance=1.0,
        scheduler=_LIGHTNING,
        context_stride=4,
        output_fps=8,
        decode_chunk_size=16,
    ),
    "high": Preset(
        steps=8,
        lightning_file=lightning_file(8),
        sizes=STANDARD_SIZES,
        guidance=1.0,
        scheduler=_LIGHTNING,
        context_stride=2,
        output_fps=24,
        decode_chunk_size=8,
    ),
}
