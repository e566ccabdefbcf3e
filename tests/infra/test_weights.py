"""`make weights` (python -m infra.weights) against a local fake of the model hub's HTTP
API, driven by the real huggingface_hub client (HF_ENDPOINT), and the settings that pick
the weights up from the data folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from infra import weights
from infra.settings import Settings
from tests.conftest import ROOT
from tests.infra.fake_hub import COMMIT, FakeHub


@pytest.fixture
def hub(httpserver) -> FakeHub:
    fake = FakeHub()
    for repo in weights.ALL:
        for path in repo.files:
            fake.add(repo.repo_id, path, f"{repo.repo_id}/{path}: tiny stand-in\n".encode() * 3)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake)
    return fake


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


def make_weights(data_dir: Path, endpoint: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`make weights` as the Makefile runs it: the hub allowed, here pointed at the fake."""
    env = {
        **os.environ,
        "HF_ENDPOINT": endpoint,
        "HF_HUB_OFFLINE": "0",
        "HF_HOME": str(tmp_path / "hf-home"),
        "ANIMBOOKS_DATA_DIR": str(data_dir),
    }
    command = [sys.executable, "-m", "infra.weights"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_it_fetches_every_file_checks_it_and_the_settings_use_them(hub, httpserver, data_dir, tmp_path):
    assert Settings(data_dir=data_dir).model == "tiny"  # before: the built-in tiny model
    result = make_weights(data_dir, httpserver.url_for("").rstrip("/"), tmp_path)
    assert result.returncode == 0, result.stderr
    for repo in weights.ALL:
        for path in repo.files:
            assert (data_dir / "weights" / repo.folder / path).read_bytes() == hub.repos[repo.repo_id][path].content
    manifest = json.loads((data_dir / "weights" / "manifest.json").read_text())["files"]
    adapter = f"AnimateDiff-Lightning/{weights.MOTION_ADAPTER_FILE}"
    content = hub.repos["ByteDance/AnimateDiff-Lightning"][weights.MOTION_ADAPTER_FILE].content
    assert manifest[adapter]["sha256"] == hashlib.sha256(content).hexdigest()
    assert manifest[adapter]["commit"] == COMMIT
    config = hub.repos["Qwen/Qwen2.5-0.5B-Instruct"]["config.json"].content
    assert (
        manifest["Qwen2.5-0.5B-Instruct/config.json"]["git-sha1"]
        == hashlib.sha1(b"blob %d\0" % len(config) + config).hexdigest()
    )
    assert "checked" in result.stdout and "make run" in result.stdout

    settings = Settings(data_dir=data_dir)
    assert settings.model == str(data_dir / "weights" / "stable-diffusion-v1-5")
    assert settings.motion_adapter == str(data_dir / "weights" / "AnimateDiff-Lightning" / weights.MOTION_ADAPTER_FILE)
    assert settings.llm_model == data_dir / "weights" / "Qwen2.5-0.5B-Instruct"
    # A setting given wins over the data folder.
    assert Settings(data_dir=data_dir, model="tiny").model == "tiny"


def test_a_second_run_skips_what_is_complete(hub, httpserver, data_dir, tmp_path):
    endpoint = httpserver.url_for("").rstrip("/")
    assert make_weights(data_dir, endpoint, tmp_path).returncode == 0
    first = len(hub.downloads())
    assert first >= sum(len(repo.files) for repo in weights.ALL)
    again = make_weights(data_dir, endpoint, tmp_path)
    assert again.returncode == 0, again.stderr
    assert hub.downloads()[first:] == []  # not even a HEAD
    assert again.stdout.count(": complete") == sum(len(repo.files) for repo in weights.ALL)


def test_a_file_changed_on_disk_is_fetched_again(hub, httpserver, data_dir, tmp_path):
    endpoint = httpserver.url_for("").rstrip("/")
    assert make_weights(data_dir, endpoint, tmp_path).returncode == 0
    damaged = data_dir / "weights" / "Qwen2.5-0.5B-Instruct" / "model.safetensors"
    damaged.write_bytes(b"x" * damaged.stat().st_size)
    assert not weights.complete(data_dir, weights.LANGUAGE_MODEL)
    assert Settings(data_dir=data_dir).llm_model is None
    assert make_weights(data_dir, endpoint, tmp_path).returncode == 0
    assert damaged.read_bytes() == hub.repos["Qwen/Qwen2.5-0.5B-Instruct"]["model.safetensors"].content


def test_a_checksum_mismatch_is_refused_with_a_clear_message(hub, httpserver, data_dir, tmp_path):
    unet = hub.repos["stable-diffusion-v1-5/stable-diffusion-v1-5"]["unet/diffusion_pytorch_model.safetensors"]
    unet.published = b"Z" * len(unet.content)  # the hub publishes the checksum of other bytes
    result = make_weights(data_dir, httpserver.url_for("").rstrip("/"), tmp_path)
    assert result.returncode == 1
    expected = hashlib.sha256(unet.published).hexdigest()
    found = hashlib.sha256(unet.content).hexdigest()
    assert result.stderr.strip().splitlines()[-1] == (
        "make weights: stable-diffusion-v1-5/stable-diffusion-v1-5/unet/diffusion_pytorch_model.safetensors: "
        f"its sha256 is {found}, the hub publishes {expected}; the download was damaged or is not the published "
        "file, so it was removed: run `make weights` again"
    )
    unet_folder = data_dir / "weights" / "stable-diffusion-v1-5" / "unet"
    assert not (unet_folder / "diffusion_pytorch_model.safetensors").exists()
    assert "Traceback" not in result.stderr
    settings = Settings(data_dir=data_dir)
    assert settings.model == "tiny"  # an incomplete set is not used
    assert settings.llm_model == data_dir / "weights" / "Qwen2.5-0.5B-Instruct"  # the others are


def test_a_file_the_hub_does_not_have_is_named(hub, httpserver, data_dir, tmp_path):
    del hub.repos["Qwen/Qwen2.5-0.5B-Instruct"]["merges.txt"]
    result = make_weights(data_dir, httpserver.url_for("").rstrip("/"), tmp_path)
    assert result.returncode == 1
    assert f"Qwen/Qwen2.5-0.5B-Instruct has no file merges.txt at {COMMIT}" in result.stderr


def test_an_unreachable_hub_says_so(data_dir, tmp_path):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = make_weights(data_dir, f"http://127.0.0.1:{port}", tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("make weights: the model hub cannot be reached or has no stable-diffusion-v1-5/")
    assert last.endswith("run `make weights` where the hub can be reached, or set HF_ENDPOINT to a mirror")
    assert "Traceback" not in result.stderr


def test_make_weights_fetches_the_lightning_file_of_every_presets_step_count():
    assert weights.MOTION_ADAPTER.files == (
        "animatediff_lightning_2step_diffusers.safetensors",
        "animatediff_lightning_4step_diffusers.safetensors",
        "animatediff_lightning_8step_diffusers.safetensors",
    )
    assert weights.MOTION_ADAPTER_FILE == "animatediff_lightning_4step_diffusers.safetensors"  # the settings' default
