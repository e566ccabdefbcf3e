"""The full-size AnimateDiff architecture with random weights, for timing only.

Stable Diffusion 1.5's UNet, VAE and CLIP ViT-L/14 text encoder, and AnimateDiff's
v1-5 motion adapter (MotionAdapter's default config), built from their configs: the
same shapes and FLOPs as the real weights, without downloading them. The output is
noise; never judge quality with it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import (
    AnimateDiffPipeline,
    AutoencoderKL,
    EulerDiscreteScheduler,
    MotionAdapter,
    StableDiffusionPipeline,
    UNet2DConditionModel,
    UNetMotionModel,
)
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

from animate_job.tiny import build_tokenizer

FULL_SIZE_MODEL = "random-weights/sd15-animatediff"


def build_full_size_pipeline(device: torch.device, dtype: torch.dtype) -> AnimateDiffPipeline:
    torch.manual_seed(0)
    with torch.device(device):  # initialise on the device: random init of 1.3 B weights is slow on a CPU
        # UNetMotionModel's defaults are SD 1.5's UNet with AnimateDiff v1-5's motion modules;
        # built whole, it needs no weight copy from a 2D UNet (and works on the meta device).
        unet = UNetMotionModel(sample_size=64, cross_attention_dim=768)
    parts = build_full_size_parts(device, unet=unet)
    return AnimateDiffPipeline(**parts).to(device=device, dtype=dtype)


def build_full_size_parts(device: torch.device, unet: torch.nn.Module | None = None) -> dict:
    """SD 1.5 (its 2D UNet unless `unet` is given), AnimateDiff v1-5's adapter, a scheduler."""
    torch.manual_seed(0)
    with torch.device(device):
        unet = unet or UNet2DConditionModel(sample_size=64, cross_attention_dim=768)  # SD 1.5's config
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            block_out_channels=(128, 256, 512, 512),
            layers_per_block=2,
            latent_channels=4,
            sample_size=512,
            scaling_factor=0.18215,
        )
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=49408,
                hidden_size=768,
                intermediate_size=3072,
                num_hidden_layers=12,
                num_attention_heads=12,
                max_position_embeddings=77,
                hidden_act="quick_gelu",
                projection_dim=768,
                bos_token_id=0,
                eos_token_id=1,
                pad_token_id=1,
            )
        )
        motion_adapter = MotionAdapter()  # the pipeline reads its config (FreeNoise's context length)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="linear", timestep_spacing="trailing"
    )
    return {
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": build_tokenizer(),  # token ids only need to fall inside the vocabulary
        "unet": unet,
        "motion_adapter": motion_adapter,
        "scheduler": scheduler,
    }


def save_as_published(parts: dict, folder: Path, dtype: torch.dtype = torch.float16) -> tuple[Path, Path]:
    """Writes the parts as the default models are published: a Stable Diffusion 1.5 folder
    in diffusers' layout and the motion adapter as one .safetensors file, as
    AnimateDiff-Lightning is (an adapter of another shape than v1-5's, such as the tiny
    one, as a diffusers folder). Returns (the model folder, the adapter)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts["scheduler"].register_to_config(steps_offset=1)  # as SD 1.5 publishes it; no effect on trailing steps
    base = StableDiffusionPipeline(
        **{name: parts[name] for name in ("vae", "text_encoder", "tokenizer", "unet", "scheduler")},
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    ).to(dtype=dtype)
    base.save_pretrained(folder / "sd15")
    motion_adapter = parts["motion_adapter"].to(dtype=dtype)
    if tuple(motion_adapter.config["block_out_channels"]) != (320, 640, 1280, 1280):  # v1-5's
        motion_adapter.save_pretrained(folder / "motion_adapter")
        return folder / "sd15", folder / "motion_adapter"
    adapter = folder / "motion_adapter.safetensors"
    save_file({k: v.contiguous() for k, v in motion_adapter.state_dict().items()}, adapter)
    return folder / "sd15", adapter
