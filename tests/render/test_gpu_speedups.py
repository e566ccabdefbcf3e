"""The CUDA speedups, checked on the CPU: the same function as diffusers, and never used here by default."""

import copy

import numpy as np
import pytest
import torch
from diffusers.models.attention import FreeNoiseTransformerBlock

from animate_job.gpu_speedups import WindowBatchedFreeNoiseBlock, batch_free_noise_windows
from animate_job.renderer import Renderer
from animate_job.tiny import build_tiny_pipeline
from infra.domain.storyboard import Shot, Storyboard, resolve_spec


def _block(stride: int) -> FreeNoiseTransformerBlock:
    torch.manual_seed(0)
    return FreeNoiseTransformerBlock(
        dim=32,
        num_attention_heads=4,
        attention_head_dim=8,
        double_self_attention=True,
        positional_embeddings="sinusoidal",
        num_positional_embeddings=32,
        context_length=16,
        context_stride=stride,
    ).eval()


@pytest.mark.parametrize(
    ("frames", "stride", "group_elements"),
    [
        (120, 4, 2**28),  # the standard preset: 27 windows, all in one batch
        (120, 2, 2**28),  # the high preset: 53 windows
        (120, 8, 3 * 6 * 16 * 32),  # the draft preset, in groups of three windows
        (25, 4, 2**28),  # the last window does not end on the last frame: diffusers adds one
        (27, 3, 2 * 6 * 16 * 32),  # the same in groups, the added window in the last group
        (16, 4, 2**28),  # a single window
    ],
)
def test_window_batching_gives_exactly_what_diffusers_gives(frames, stride, group_elements):
    reference = _block(stride)
    batched = copy.deepcopy(reference)
    batched.__class__ = WindowBatchedFreeNoiseBlock
    batched.max_group_elements = group_elements
    hidden = torch.randn(6, frames, 32)
    with torch.no_grad():
        assert torch.equal(batched(hidden), reference(hidden))


@pytest.mark.slow
def test_a_pipeline_with_batched_windows_renders_the_same_frames():
    storyboard = Storyboard(
        title="t", seed=4, shots=[Shot(start_s=0, prompt="a bridge"), Shot(start_s=6, prompt="rain")]
    )
    spec = resolve_spec(storyboard)
    plain = Renderer(build_tiny_pipeline(), base_model="tiny", motion_adapter=None, device=torch.device("cpu"))
    batched = Renderer(build_tiny_pipeline(), base_model="tiny", motion_adapter=None, device=torch.device("cpu"))
    batched.pipeline.enable_free_noise(context_length=spec.context_length, context_stride=spec.context_stride)
    # The tiny UNet's motion modules: one per down block (2), two per up block (4), one in the middle.
    assert batch_free_noise_windows(batched.pipeline) == 7
    assert np.array_equal(batched.render(spec).frames, plain.render(spec).frames)
    blocks = [m for m in batched.pipeline.unet.modules() if isinstance(m, FreeNoiseTransformerBlock)]
    assert all(type(block) is WindowBatchedFreeNoiseBlock for block in blocks)  # a render keeps them


def test_on_a_cpu_the_renderer_runs_diffusers_as_it_is(tiny_renderer, storyboard_data):
    renderer = Renderer.load("tiny", device="cpu", gpu_speedups=True)
    assert not renderer.gpu_speedups
    renderer.render(resolve_spec(Storyboard.model_validate(storyboard_data), "draft"))
    blocks = [m for m in renderer.pipeline.unet.modules() if isinstance(m, FreeNoiseTransformerBlock)]
    assert blocks and all(type(block) is FreeNoiseTransformerBlock for block in blocks)
    assert renderer.pipeline.unet.conv_in.weight.is_contiguous()  # not channels_last


def test_frames_become_bytes_on_the_device_as_diffusers_then_numpy_made_them():
    from diffusers.video_processor import VideoProcessor

    from animate_job.renderer import _to_bytes

    processor = VideoProcessor(do_resize=False, vae_scale_factor=8)
    video = torch.randn(1, 3, 5, 16, 16, generator=torch.Generator().manual_seed(0)) * 0.8
    levels = torch.arange(256) / 255
    video.view(-1)[:256] = levels * 2 - 1  # each exact level
    video.view(-1)[256:511] = (levels[:-1] + 0.5 / 255) * 2 - 1  # half-way between two levels
    video.view(-1)[511:513] = torch.tensor([-1.5, 1.5])  # out of range
    before = processor.postprocess_video(video=video, output_type="np")[0]  # the renderer's former way
    before = (np.clip(before, 0.0, 1.0) * 255).round().astype(np.uint8)
    frames = processor.denormalize(video[0]).permute(1, 0, 2, 3)  # [frames, channels, height, width]
    assert np.array_equal(_to_bytes(frames).numpy(), before)
