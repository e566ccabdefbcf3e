"""The full-size AnimateDiff architecture with random weights, for timing only.

Stable Diffusion 1.5's UNet, VAE and CLIP ViT-L/14 text encoder, and AnimateDiff's
v1-5 motion adapter (MotionAdapter's default config), built from their configs: the
same shapes and FLOPs as the real weights, without downloading them. The output is
noise; never judge quality with it.
"""

from __future__ import annotations

import torch
from diffusers import AnimateDiffPipeline, AutoencoderKL, EulerDiscreteScheduler, MotionAdapter, UNetMotionModel
from transformers import CLIPTextConfig, CLIPTextModel

from animate_job.tiny import build_tokenizer

FULL_SIZE_MODEL = "random-weights/sd15-animatediff"


def build_full_size_pipeline(device: torch.device, dtype: torch.dtype) -> AnimateDiffPipeline:
    torch.manual_seed(0)
    with torch.device(device):  # initialise on the device: random init of 1.3 B weights is slow on a CPU
        # UNetMotionModel's defaults are SD 1.5's UNet with AnimateDiff v1-5's motion modules;
        # built whole, it needs no weight copy from a 2D UNet (and works on the meta device).
        unet = UNetMotionModel(sample_size=64, cross_attention_dim=768)
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
    pipeline = AnimateDiffPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=build_tokenizer(),  # token ids only need to fall inside the vocabulary
        unet=unet,
        motion_adapter=motion_adapter,
        scheduler=scheduler,
    )
    return pipeline.to(device=device, dtype=dtype)
