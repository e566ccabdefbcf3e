"""Render presets and model defaults: data, read by the contract and the renderer.

A preset trades speed for quality. The values suit the default real models, Stable
Diffusion 1.5 with the AnimateDiff-Lightning motion adapter, which is distilled for
few steps without classifier-free guidance and wants an Euler scheduler with
"trailing" timesteps. To use the original AnimateDiff v1-5 adapters instead, use a
preset with the DDIM scheduler, about 25 steps and guidance near 7.5.

At guidance 1.0 diffusers runs no classifier-free guidance, so the negative prompt
has no effect; it takes effect only in presets with guidance above 1.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PresetName = Literal["draft", "standard", "high"]
DEFAULT_PRESET: PresetName = "standard"

CLIP_SECONDS = 15.0
RENDER_FPS = 8  # AnimateDiff's motion modules were trained at about 8 fps

TINY_MODEL = "tiny"
# The tiny model renders at its own small size unless a size is asked for: at the
# presets' 512x512 its random weights would cost minutes on a CPU for nothing.
TINY_MODEL_SIZE = (64, 64)

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
    width: int
    height: int
    guidance: float
    scheduler: Scheduler
    context_stride: int  # FreeNoise window stride in frames: smaller is smoother and slower
    output_fps: int  # 8 writes the rendered frames; 24 interpolates between them
    decode_chunk_size: int  # frames decoded by the VAE at once: bounds peak memory


_LIGHTNING = Scheduler(
    name="EulerDiscreteScheduler",
    options={"timestep_spacing": "trailing", "beta_schedule": "linear"},
)

PRESETS: dict[str, Preset] = {
    "draft": Preset(
        steps=2,
        width=384,
        height=384,
        guidance=1.0,
        scheduler=_LIGHTNING,
        context_stride=8,
        output_fps=8,
        decode_chunk_size=16,
    ),
    "standard": Preset(
        steps=4,
        width=512,
        height=512,
        guidance=1.0,
        scheduler=_LIGHTNING,
        context_stride=4,
        output_fps=8,
        decode_chunk_size=16,
    ),
    "high": Preset(
        steps=8,
        width=512,
        height=512,
        guidance=1.0,
        scheduler=_LIGHTNING,
        context_stride=2,
        output_fps=24,
        decode_chunk_size=8,
    ),
}
