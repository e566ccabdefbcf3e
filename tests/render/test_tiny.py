"""The tiny pipeline: real diffusers classes, built offline, rendering a whole clip."""

import numpy as np
import pytest
import torch
from diffusers import AnimateDiffPipeline, MotionAdapter, UNetMotionModel

from animate_job.progress import Progress
from animate_job.renderer import RenderOutOfMemory
from animate_job.tiny import TINY_VOCAB_SIZE, build_tiny_pipeline, build_tokenizer
from infra.domain.prompt_tokens import TokenizerCounter
from infra.domain.storyboard import Shot, Storyboard, frame_prompts, resolve_spec


def test_tokenizer_is_built_offline_with_its_whole_vocabulary():
    tokenizer = build_tokenizer()
    # A hub tokenizer that could not be fetched degrades to the two special tokens.
    assert len(tokenizer) == TINY_VOCAB_SIZE == 514
    assert tokenizer.model_max_length == 77
    ids = tokenizer("A cat, Раскольников!").input_ids
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.unk_token_id not in ids[1:-1]  # every byte has a token of its own
    decoded = tokenizer.decode(ids, skip_special_tokens=True)
    assert isinstance(decoded, str) and decoded.replace(" ", "") == "acat,раскольников!"


def test_tokenizer_counts_are_labelled_counted():
    counter = TokenizerCounter(build_tokenizer())
    assert counter.method == "counted"
    assert counter("abc") == 5  # three bytes plus start and end


def test_pipeline_is_real_animatediff_with_the_same_weights_for_the_same_seed():
    first, second, other = build_tiny_pipeline(0), build_tiny_pipeline(0), build_tiny_pipeline(1)
    assert isinstance(first, AnimateDiffPipeline)
    assert isinstance(first.unet, UNetMotionModel) and isinstance(first.motion_adapter, MotionAdapter)
    weights = [dict(p.unet.named_parameters())["conv_in.weight"] for p in (first, second, other)]
    assert np.array_equal(weights[0].detach(), weights[1].detach())
    assert not np.array_equal(weights[0].detach(), weights[2].detach())


@pytest.fixture(scope="module")
def storyboard(request) -> Storyboard:
    return Storyboard(
        title="test",
        style="ink drawing",
        seed=5,
        shots=[Shot(start_s=0, prompt="a bridge over a river"), Shot(start_s=7.5, prompt="a tower at night")],
    )


@pytest.fixture(scope="module")
def frames_seed_5(tiny_renderer, storyboard):
    return tiny_renderer.render(resolve_spec(storyboard)).frames


def test_a_whole_clip_is_120_frames_at_the_tiny_size(frames_seed_5):
    assert frames_seed_5.shape == (120, 64, 64, 3)
    assert frames_seed_5.dtype == np.uint8
    assert frames_seed_5.std() > 1  # not a blank clip


def test_same_spec_gives_the_same_frames(tiny_renderer, storyboard, frames_seed_5):
    again = tiny_renderer.render(resolve_spec(storyboard)).frames
    assert np.array_equal(again, frames_seed_5)


def test_another_seed_gives_other_frames(tiny_renderer, storyboard, frames_seed_5):
    other = tiny_renderer.render(resolve_spec(storyboard, seed=6)).frames
    assert np.abs(other.astype(int) - frames_seed_5.astype(int)).mean() > 1


def test_the_shots_prompts_reach_the_frames(tiny_renderer, storyboard, frames_seed_5):
    changed = storyboard.model_copy(update={"shots": [storyboard.shots[0], Shot(start_s=7.5, prompt="a red fox")]})
    frames = tiny_renderer.render(resolve_spec(changed)).frames
    difference = np.abs(frames.astype(int) - frames_seed_5.astype(int)).mean(axis=(1, 2, 3))
    # The first shot is held until just before the second starts: only the end changes.
    assert difference[:50].max() < difference[64:].min()


def _as_bytes(images) -> np.ndarray:
    """diffusers' frames as PIL images (its own conversion to 8 bits), stacked."""
    return np.stack([np.asarray(image) for image in images])


def test_a_render_gives_the_frames_diffusers_decodes_itself(tiny_renderer, storyboard):
    spec = resolve_spec(storyboard)
    frames = tiny_renderer.render(spec).frames
    pipe = tiny_renderer.pipeline  # the render left the spec's scheduler and FreeNoise set on it
    with torch.inference_mode():
        video = pipe(
            prompt=frame_prompts(spec),
            negative_prompt=spec.storyboard.negative_prompt,
            num_frames=spec.frames,
            width=spec.width,
            height=spec.height,
            num_inference_steps=spec.steps,
            guidance_scale=spec.guidance,
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            decode_chunk_size=spec.decode_chunk_size,
            output_type="pil",
        ).frames[0]
    assert np.array_equal(frames, _as_bytes(video))


def _whole_video_decode(pipe, latents, chunk) -> np.ndarray:
    """The renderer's former decode: the whole float video from diffusers, then bytes."""
    video = pipe.video_processor.denormalize(pipe.decode_latents(latents, decode_chunk_size=chunk)[0])
    return (video * 255).round().to(torch.uint8).permute(1, 2, 3, 0).numpy()


@pytest.mark.parametrize(
    ("frames", "chunk"),
    [
        (120, 16),  # the standard preset: 7 full chunks and one of 8
        (120, 8),  # the high preset, and every chunk on CUDA
        (24, 7),  # a chunk size that does not divide the frames
        (5, 16),  # fewer frames than one chunk
        (1, 1),
    ],
)
def test_decoding_a_chunk_at_a_time_gives_the_same_bytes(tiny_renderer, frames, chunk):
    latents = torch.randn(1, 4, frames, 8, 8, generator=torch.Generator().manual_seed(frames))
    pipe = tiny_renderer.pipeline
    with torch.inference_mode():
        expected = _as_bytes(pipe.video_processor.postprocess_video(pipe.decode_latents(latents, chunk), "pil")[0])
        former = _whole_video_decode(pipe, latents, chunk)
        decoded = tiny_renderer.decode(latents, chunk)
    assert (decoded.shape, decoded.dtype) == ((frames, 64, 64, 3), np.uint8)
    assert np.array_equal(decoded, former)
    assert np.array_equal(decoded, expected)


def test_decoding_reports_progress_after_each_chunk(tiny_renderer):
    seen = []
    latents = torch.randn(1, 4, 20, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        tiny_renderer.decode(latents, 8, Progress(lambda stage, value: seen.append((stage, value)), min_interval_s=0))
    # Decoding is 0.85 to 0.95 of the whole: chunks end at frames 8, 16 and 20 of 20.
    assert seen == [("decoding", pytest.approx(0.85 + 0.1 * done / 20)) for done in (8, 16, 20)]


def test_a_size_can_be_asked_for(tiny_renderer, storyboard, frames_seed_5):
    frames = tiny_renderer.render(resolve_spec(storyboard, preset="draft", width=96, height=64)).frames
    assert frames.shape == (120, 64, 96, 3)
    # Another preset's FreeNoise stride and scheduler leave nothing behind in the pipeline.
    assert np.array_equal(tiny_renderer.render(resolve_spec(storyboard)).frames, frames_seed_5)


def test_progress_is_reported_from_the_steps(tiny_renderer, storyboard):
    seen = []
    tiny_renderer.render(resolve_spec(storyboard), Progress(lambda s, v: seen.append((s, v)), min_interval_s=0))
    stages = [stage for stage, _ in seen]
    assert stages[0] == "loading" and stages[-1] == "decoding"
    assert stages.count("denoising") == 4  # one report per step of the standard preset
    assert [v for _, v in seen] == sorted(v for _, v in seen)


def test_a_spec_for_another_model_is_refused(tiny_renderer, storyboard):
    with pytest.raises(ValueError, match="this renderer holds tiny"):
        tiny_renderer.render(resolve_spec(storyboard, base_model="/models/other"))


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError("CUDA out of memory"),
        RuntimeError("DefaultCPUAllocator: not enough memory"),
        MemoryError(),
    ],
)
def test_running_out_of_memory_says_what_to_change(tiny_renderer, storyboard, monkeypatch, error):
    def out_of_memory(*args, **kwargs):
        raise error

    monkeypatch.setattr(AnimateDiffPipeline, "__call__", out_of_memory)
    with pytest.raises(RenderOutOfMemory, match="ran out of memory rendering 64x64: try the draft preset"):
        tiny_renderer.render(resolve_spec(storyboard))


def test_other_failures_are_not_called_out_of_memory(tiny_renderer, storyboard, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(AnimateDiffPipeline, "__call__", broken)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        tiny_renderer.render(resolve_spec(storyboard))
