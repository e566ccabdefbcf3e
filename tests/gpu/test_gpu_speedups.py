"""The renderer's default on CUDA: the same function as diffusers, in the memory of an L4.

Skipped where there is no CUDA GPU. The full-size model is built from its configs with
random weights (tests/benchmarks/full_size.py): the shapes and memory of the real one.
"""

import copy

import pytest
import torch
from diffusers.models.attention import FreeNoiseTransformerBlock

from animate_job.gpu_speedups import WindowBatchedFreeNoiseBlock
from infra.domain.storyboard import Storyboard, resolve_spec

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

# An NVIDIA L4 has 24 GB (22.5 GiB); the CUDA context and other processes need the rest.
L4_BUDGET_GIB = 20


def _motion_block(dtype: torch.dtype) -> FreeNoiseTransformerBlock:
    """A FreeNoise block the size of the motion modules' first level (320 channels, 8 heads)."""
    torch.manual_seed(0)
    block = FreeNoiseTransformerBlock(
        dim=320,
        num_attention_heads=8,
        attention_head_dim=40,
        double_self_attention=True,
        positional_embeddings="sinusoidal",
        num_positional_embeddings=32,
        context_length=16,
        context_stride=4,
    )
    return block.to("cuda", dtype).eval()


@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float32, 1e-3), (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("frames", [120, 25])  # 25: the last window does not end on the last frame
def test_window_batching_computes_what_diffusers_computes(dtype, tolerance, frames):
    reference = _motion_block(dtype)
    batched = copy.deepcopy(reference)
    batched.__class__ = WindowBatchedFreeNoiseBlock
    batched.max_group_elements = 3 * 256 * 16 * 320  # several groups, one short
    hidden = torch.randn(256, frames, 320, device="cuda", dtype=dtype)
    with torch.inference_mode():
        expected = reference(hidden).float()
        got = batched(hidden).float()
    assert torch.isfinite(got).all()
    # fp32 on the GPU may use TF32 matrix units (about 3e-4); bf16 operands 1e-3 to 1e-2.
    assert (got - expected).norm() / expected.norm() < tolerance


@pytest.fixture(scope="module")
def full_size():
    from animate_job.renderer import Renderer
    from tests.benchmarks.full_size import FULL_SIZE_MODEL, build_full_size_pipeline

    pipeline = build_full_size_pipeline(torch.device("cuda"), torch.bfloat16)
    renderer = Renderer(pipeline, base_model=FULL_SIZE_MODEL, motion_adapter=None, device=torch.device("cuda"))
    yield renderer
    del renderer, pipeline
    torch.cuda.empty_cache()


def test_the_default_path_renders_a_standard_clip_in_an_l4s_memory(full_size, storyboard_data):
    assert full_size.gpu_speedups
    spec = resolve_spec(Storyboard.model_validate(storyboard_data), "standard", base_model=full_size.base_model)
    assert (spec.frames, spec.width, spec.height, spec.steps) == (120, 512, 512, 4)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    # The allocator may hand out no more than an L4 could: cuDNN's autotuning then picks among
    # the algorithms whose workspace fits, as it would there, and anything more fails the render.
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(L4_BUDGET_GIB * 2**30 / total)
    try:
        frames = full_size.render(spec).frames
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
    assert frames.shape == (120, 512, 512, 3)
    assert torch.cuda.max_memory_reserved() / 2**30 <= L4_BUDGET_GIB


def test_the_speedups_change_a_clip_by_rounding_only(storyboard_data):
    from animate_job.renderer import Renderer

    spec = resolve_spec(Storyboard.model_validate(storyboard_data), "standard", base_model="tiny")
    fast = Renderer.load("tiny", device="cuda").render(spec).frames.astype("float32")
    plain = Renderer.load("tiny", device="cuda", gpu_speedups=False).render(spec).frames.astype("float32")
    # bf16 kernels chosen for other shapes and layouts round differently, and 2 steps carry it on.
    assert ((fast - plain) ** 2).sum() ** 0.5 / (plain**2).sum() ** 0.5 < 2e-2
