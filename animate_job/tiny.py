"""A tiny AnimateDiff pipeline built in code, for running the product without weights.

Real diffusers and transformers classes with tiny configs and a fixed seed, as
diffusers' own pipeline tests build them. Its output is noise-like: it proves the
wiring (prompts, FreeNoise, decoding, encoding), never the quality.
"""

from __future__ import annotations

import torch
from diffusers import (
    AnimateDiffPipeline,
    AutoencoderKL,
    EulerDiscreteScheduler,
    MotionAdapter,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

from infra.domain.presets import TINY_MODEL_SIZE

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
# 256 byte symbols, the same 256 as word endings, and the two special tokens.
TINY_VOCAB_SIZE = 2 * 256 + 2

_CHANNELS = (16, 16)
_CROSS_ATTENTION_DIM = 16


def build_tokenizer() -> CLIPTokenizer:
    """A CLIP tokenizer with a byte-level vocabulary and no merges, built offline.

    Every byte is one token, so it never meets an unknown symbol. A tokenizer fetched
    from a hub would silently shrink to the two special tokens when offline; tests
    assert this one's length instead.
    """
    symbols = list(bytes_to_unicode().values())
    vocab = {BOS: 0, EOS: 1}
    for symbol in symbols:
        vocab[symbol] = len(vocab)
    for symbol in symbols:
        vocab[symbol + "</w>"] = len(vocab)
    return CLIPTokenizer(
        vocab=vocab,
        merges=[],
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
        unk_token=EOS,
        model_max_length=77,
    )


def build_tiny_pipeline(seed: int = 0) -> AnimateDiffPipeline:
    """Builds the tiny pipeline; the same seed gives the same weights."""
    return AnimateDiffPipeline(**build_tiny_parts(seed), feature_extractor=None, image_encoder=None)


def build_tiny_parts(seed: int = 0) -> dict:
    """The tiny pipeline's parts as a Stable Diffusion 1.5 model and a motion adapter are
    published: a 2D UNet, a VAE, a text encoder, a tokenizer, a scheduler, and the adapter."""
    width, height = TINY_MODEL_SIZE
    vae_blocks = 4  # a VAE with four blocks downsamples 8x, as Stable Diffusion's does
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=_CHANNELS,
        layers_per_block=1,
        sample_size=height // 2 ** (vae_blocks - 1),
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=_CROSS_ATTENTION_DIM,
        attention_head_dim=8,
        norm_num_groups=2,
    )
    torch.manual_seed(seed)
    vae = AutoencoderKL(
        block_out_channels=(8,) * vae_blocks,
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * vae_blocks,
        up_block_types=("UpDecoderBlock2D",) * vae_blocks,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        sample_size=width,
    )
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=_CROSS_ATTENTION_DIM,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            max_position_embeddings=77,
            vocab_size=TINY_VOCAB_SIZE,
        )
    )
    torch.manual_seed(seed)
    motion_adapter = MotionAdapter(
        block_out_channels=_CHANNELS,
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=2,
        motion_max_seq_length=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="linear", timestep_spacing="trailing"
    )
    return {
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": build_tokenizer(),
        "unet": unet,
        "motion_adapter": motion_adapter,
        "scheduler": scheduler,
    }
