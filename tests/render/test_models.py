"""Loading weights: the tiny pipeline saved and loaded through the real path, and clear errors."""

import json

import numpy as np
import pytest
import torch
from diffusers import AnimateDiffPipeline, StableDiffusionPipeline, UNetMotionModel
from safetensors.torch import save_file

from animate_job.models import ModelNotAvailable, load_pipeline
from animate_job.renderer import Renderer
from animate_job.tiny import build_tiny_parts, build_tiny_pipeline
from infra.domain.storyboard import Shot, Storyboard, resolve_spec


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory):
    """The tiny pipeline written with save_pretrained, as real weights would be laid out."""
    folder = tmp_path_factory.mktemp("models") / "tiny-animatediff"
    build_tiny_pipeline().save_pretrained(folder)
    return folder


def test_save_pretrained_then_load_gives_the_same_pipeline(saved_tiny):
    loaded = load_pipeline(str(saved_tiny))
    built = build_tiny_pipeline()
    assert isinstance(loaded, AnimateDiffPipeline)
    assert len(loaded.tokenizer) == len(built.tokenizer) == 514
    for name in ("unet", "vae", "text_encoder"):
        loaded_state, built_state = getattr(loaded, name).state_dict(), getattr(built, name).state_dict()
        assert loaded_state.keys() == built_state.keys()
        assert all(torch.equal(loaded_state[k], built_state[k]) for k in built_state), name


def test_a_saved_model_renders_the_same_frames_as_the_built_one(saved_tiny, tiny_renderer):
    storyboard = Storyboard(title="t", seed=3, shots=[Shot(start_s=0, prompt="a lighthouse")])
    from_disk = Renderer.load(str(saved_tiny), device="cpu")
    on_disk = from_disk.render(resolve_spec(storyboard, base_model=str(saved_tiny), width=64, height=64)).frames
    built = tiny_renderer.render(resolve_spec(storyboard)).frames
    assert np.array_equal(on_disk, built)
    assert from_disk.token_counter is not None and from_disk.token_counter.method == "counted"
    assert tiny_renderer.token_counter is None  # byte-level counts would be far too high


def test_a_base_model_and_a_separate_motion_adapter(saved_tiny, tmp_path):
    base = tmp_path / "sd"
    index = json.loads((saved_tiny / "model_index.json").read_text())
    del index["motion_adapter"]
    base.mkdir()
    for part in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        (base / part).symlink_to(saved_tiny / part)
    (base / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(ModelNotAvailable, match="has no motion adapter of its own"):
        load_pipeline(str(base))
    pipeline = load_pipeline(str(base), str(saved_tiny / "motion_adapter"))
    assert pipeline.motion_adapter is not None


@pytest.fixture(scope="module")
def published_tiny(tmp_path_factory):
    """The tiny parts laid out as SD 1.5 is published (a 2D UNet), and its adapter apart."""
    folder = tmp_path_factory.mktemp("published")
    parts = build_tiny_parts()
    # SD 1.5's published scheduler config says steps_offset 1 (the pipeline warns otherwise);
    # with trailing timesteps it changes nothing.
    parts["scheduler"].register_to_config(steps_offset=1)
    StableDiffusionPipeline(
        **{name: parts[name] for name in ("vae", "text_encoder", "tokenizer", "unet", "scheduler")},
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    ).save_pretrained(folder / "sd15")
    parts["motion_adapter"].save_pretrained(folder / "adapter")
    return folder / "sd15", folder / "adapter"


def test_a_2d_unet_and_an_adapter_make_the_motion_unet_diffusers_makes(published_tiny, tiny_renderer):
    base, adapter = published_tiny
    assert json.loads((base / "model_index.json").read_text())["unet"][1] == "UNet2DConditionModel"
    loaded = load_pipeline(str(base), str(adapter))
    built = build_tiny_pipeline()  # AnimateDiffPipeline joins them itself (UNetMotionModel.from_unet2d)
    assert isinstance(loaded.unet, UNetMotionModel)
    loaded_state, built_state = loaded.unet.state_dict(), built.unet.state_dict()
    assert loaded_state.keys() == built_state.keys()
    assert all(torch.equal(loaded_state[k], built_state[k]) for k in built_state)
    storyboard = Storyboard(title="t", seed=3, shots=[Shot(start_s=0, prompt="a lighthouse")])
    spec = resolve_spec(storyboard, "draft", base_model=str(base), motion_adapter=str(adapter), width=64, height=64)
    frames = Renderer.load(str(base), str(adapter), device="cpu").render(spec).frames
    assert np.array_equal(frames, tiny_renderer.render(resolve_spec(storyboard, "draft")).frames)


def test_missing_directory_says_where_it_looked():
    with pytest.raises(ModelNotAvailable, match="no model directory at /nowhere/sd15"):
        load_pipeline("/nowhere/sd15")


def test_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "model_index.json").write_text("{}")
    with pytest.raises(ModelNotAvailable, match="is not a diffusers model directory"):
        load_pipeline(str(tmp_path), str(tmp_path))


def test_hub_id_offline_says_how_to_point_at_local_weights():
    with pytest.raises(ModelNotAvailable) as caught:
        load_pipeline("someone/not-cached-model", "someone/not-cached-adapter")
    message = str(caught.value)
    assert "HF_HUB_OFFLINE=1" in message and "ANIMBOOKS_MODEL" in message


def test_hub_adapter_file_offline():
    with pytest.raises(ModelNotAvailable, match=r"someone/adapter/lightning\.safetensors.*offline"):
        load_pipeline("someone/not-cached-model", "someone/adapter/lightning.safetensors")


def test_an_adapter_file_of_the_wrong_architecture(tmp_path):
    path = tmp_path / "adapter.safetensors"
    save_file({"not_a_motion_module.weight": torch.zeros(2)}, path)
    with pytest.raises(ModelNotAvailable, match="is not an AnimateDiff v1-5 motion adapter"):
        load_pipeline("someone/not-cached-model", str(path))


def test_a_missing_adapter_file(tmp_path):
    with pytest.raises(ModelNotAvailable, match="no motion adapter file at"):
        load_pipeline("someone/not-cached-model", str(tmp_path / "missing.safetensors"))
