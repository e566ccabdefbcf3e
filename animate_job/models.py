"""Loading an AnimateDiff pipeline from wherever its weights are.

A model source is one of:
- "tiny": the pipeline built in code (animate_job.tiny), random weights, no files;
- a local directory in diffusers' layout (`save_pretrained`): either a whole
  AnimateDiff pipeline, which carries its motion adapter, or a Stable Diffusion 1.5
  pipeline, which needs a motion adapter beside it;
- a model hub id ("owner/name"), only where the hub can be reached or the model is
  already in the local Hugging Face cache.

A motion adapter is a directory or hub id in diffusers' layout, or a single
`.safetensors` file of adapter weights (local, or "owner/name/file.safetensors" on
the hub), which is how AnimateDiff-Lightning is published.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from accelerate import init_empty_weights
from diffusers import AnimateDiffPipeline, MotionAdapter, UNet2DConditionModel, UNetMotionModel
from huggingface_hub import constants as hub_constants
from huggingface_hub import hf_hub_download
from safetensors.torch import load_file

from animate_job.tiny import build_tiny_pipeline
from infra.domain.presets import TINY_MODEL

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_HUB_FILE = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)/(?P<file>[\w./-]+\.safetensors)$")


class ModelNotAvailable(Exception):
    """The weights cannot be found or read; the message says how to point at them."""


def load_pipeline(
    base_model: str,
    motion_adapter: str | None = None,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> AnimateDiffPipeline:
    """Builds the AnimateDiff pipeline for a base model and motion adapter, on `device`."""
    if base_model == TINY_MODEL:
        return build_tiny_pipeline().to(device=device, dtype=dtype)
    adapter = _load_motion_adapter(motion_adapter, dtype) if motion_adapter else None
    if adapter is None and not _carries_motion_adapter(base_model):
        raise ModelNotAvailable(
            f"'{base_model}' has no motion adapter of its own: name one with --motion-adapter "
            "or ANIMBOOKS_MOTION_ADAPTER (a directory, a .safetensors file or a hub id)"
        )
    extra = {"motion_adapter": adapter} if adapter is not None else {}
    if adapter is not None and _unet_class(base_model) == "UNet2DConditionModel":
        unet = _from_pretrained(UNet2DConditionModel, base_model, subfolder="unet", dtype=dtype)
        extra["unet"] = _motion_unet(unet, adapter)
    return _from_pretrained(AnimateDiffPipeline, base_model, dtype=dtype, **extra).to(device)


def _motion_unet(unet: UNet2DConditionModel, adapter: MotionAdapter) -> UNetMotionModel:
    """The 2D UNet and the adapter's motion modules as one UNetMotionModel.

    What AnimateDiffPipeline does itself (UNetMotionModel.from_unet2d), without first
    filling 1.3 billion new weights with random numbers on the CPU: on a 2-core machine
    that was nearly half of loading the full-size model. The two state dicts hold every
    tensor of the UNetMotionModel under its own names (strict loading checks it).
    """
    if adapter.config.get("conv_in_channels"):  # PIA-style adapters replace conv_in: diffusers' way
        return UNetMotionModel.from_unet2d(unet, adapter)
    with init_empty_weights(include_buffers=True):
        motion_unet = UNetMotionModel.from_unet2d(unet, adapter, load_weights=False)
    # Fresh storage, then a copy, as from_unet2d does: the same memory layout gives the same
    # frames to the last bit on a CPU, which tensors shared with the files did not.
    motion_unet.to(unet.dtype).to_empty(device=unet.device)
    motion_unet.load_state_dict(unet.state_dict() | adapter.state_dict(), strict=True)
    return motion_unet


def _load_motion_adapter(source: str, dtype: torch.dtype) -> MotionAdapter:
    hub_file = _HUB_FILE.match(source)
    if source.endswith(".safetensors") and (Path(source).is_file() or hub_file is None):
        return _adapter_from_file(Path(source), dtype)
    if hub_file and not Path(source).exists():
        return _adapter_from_file(_download(hub_file["repo"], hub_file["file"]), dtype)
    return _from_pretrained(MotionAdapter, source, dtype=dtype)


def _adapter_from_file(path: Path, dtype: torch.dtype) -> MotionAdapter:
    if not path.is_file():
        raise ModelNotAvailable(f"no motion adapter file at {path}")
    with init_empty_weights():  # the default config is AnimateDiff's v1-5 architecture; no random fill
        adapter = MotionAdapter()
    try:
        adapter.load_state_dict(load_file(path), assign=True)
    except (RuntimeError, OSError) as error:
        raise ModelNotAvailable(f"{path} is not an AnimateDiff v1-5 motion adapter: {_first_line(error)}") from error
    return adapter.to(dtype)


def _download(repo: str, filename: str) -> Path:
    try:
        return Path(hf_hub_download(repo, filename, local_files_only=hub_constants.HF_HUB_OFFLINE))
    except Exception as error:  # huggingface_hub raises a family of unrelated errors here
        raise ModelNotAvailable(_hub_advice(f"{repo}/{filename}", error)) from error


def _from_pretrained(cls, source: str, **kwargs):
    path = Path(source).expanduser()
    if path.is_dir():
        try:
            return cls.from_pretrained(path, local_files_only=True, **kwargs)
        except (OSError, ValueError, TypeError) as error:
            raise ModelNotAvailable(
                f"{path} is not a diffusers model directory that can be read: {_first_line(error)}"
            ) from error
    if not _HUB_ID.match(source):
        raise ModelNotAvailable(
            f"no model directory at {path}: point it at a folder made by save_pretrained "
            "(one with model_index.json), or use 'tiny' for the built-in demo model"
        )
    try:
        return cls.from_pretrained(source, local_files_only=hub_constants.HF_HUB_OFFLINE, **kwargs)
    except (OSError, ValueError) as error:
        raise ModelNotAvailable(_hub_advice(source, error)) from error


def _unet_class(base_model: str) -> str | None:
    """The UNet's class named in a local model folder's model_index.json (None for a hub id)."""
    index = Path(base_model).expanduser() / "model_index.json"
    try:
        return json.loads(index.read_text())["unet"][1]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _carries_motion_adapter(base_model: str) -> bool:
    index = Path(base_model).expanduser() / "model_index.json"
    if not index.is_file():
        return True  # a hub id: from_pretrained says what is missing
    try:
        return "motion_adapter" in json.loads(index.read_text())
    except ValueError:
        return False


def _hub_advice(name: str, error: Exception) -> str:
    if hub_constants.HF_HUB_OFFLINE:
        return (
            f"'{name}' is a model hub id, this machine is offline (HF_HUB_OFFLINE=1) and it is not in the "
            "local Hugging Face cache: download it where the hub is reachable, then point "
            "ANIMBOOKS_MODEL / --model (or the motion adapter setting) at the local copy"
        )
    return f"could not load '{name}' from the model hub: {_first_line(error)}"


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
