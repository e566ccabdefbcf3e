"""Real weights in the data folder: what `make weights` fetches from the model hub, where
it puts them, and how the settings find them.

    <data folder>/weights/stable-diffusion-v1-5/   the base model, diffusers' layout
    <data folder>/weights/AnimateDiff-Lightning/   the presets' motion adapters (2, 4 and 8 steps)
    <data folder>/weights/Qwen2.5-0.5B-Instruct/   the local dialogue model
    <data folder>/weights/manifest.json            each file fetched: repo, commit, size, checksum

Every file is checked against the checksum the hub publishes for it (the SHA-256 of a
Git LFS file, the Git blob SHA-1 of any other) before it is recorded in the manifest; a
file that does not match is removed and the command says which. A file the manifest
records, at its recorded size and time, is complete: a second run fetches nothing. A set
counts for the settings only when every one of its files is complete.

    python -m infra.weights [--data-dir DIR]       (`make weights`)

huggingface_hub (the real client) is imported only to fetch: the website's image has none.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.domain.presets import DEFAULT_PRESET, PRESETS

FOLDER = "weights"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Weights:
    what: str
    repo_id: str
    files: tuple[str, ...]
    revision: str = "main"

    @property
    def folder(self) -> str:
        return self.repo_id.split("/")[-1]


BASE_MODEL = Weights(
    "Stable Diffusion 1.5, the base model (diffusers layout, no safety checker)",
    "stable-diffusion-v1-5/stable-diffusion-v1-5",
    (
        "model_index.json",
        "feature_extractor/preprocessor_config.json",
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model.safetensors",
        "tokenizer/merges.txt",
        "tokenizer/special_tokens_map.json",
        "tokenizer/tokenizer_config.json",
        "tokenizer/vocab.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors",
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
    ),
)
# Each preset renders with the Lightning file distilled for its steps (infra/domain/presets.py);
# the settings name the default preset's, and a spec takes its own preset's from beside it.
MOTION_ADAPTER_FILE = PRESETS[DEFAULT_PRESET].lightning_file
MOTION_ADAPTER = Weights(
    "AnimateDiff-Lightning, the presets' motion adapters (one per step count)",
    "ByteDance/AnimateDiff-Lightning",
    tuple(sorted({preset.lightning_file for preset in PRESETS.values()})),
)
LANGUAGE_MODEL = Weights(
    "Qwen2.5 0.5B Instruct, the local dialogue model",
    "Qwen/Qwen2.5-0.5B-Instruct",
    (
        "config.json",
        "generation_config.json",
        "merges.txt",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.json",
    ),
)
ALL = (BASE_MODEL, MOTION_ADAPTER, LANGUAGE_MODEL)


class WeightsError(Exception):
    """Something a person must act on; the message says what."""


def folder(data_dir: Path, weights: Weights) -> Path:
    return data_dir / FOLDER / weights.folder


def read_manifest(data_dir: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((data_dir / FOLDER / MANIFEST).read_text())
    except (OSError, ValueError):
        return {"files": {}}
    return manifest if isinstance(manifest.get("files"), dict) else {"files": {}}


def complete(data_dir: Path, weights: Weights) -> bool:
    """Whether every file of the set is here as the manifest recorded it."""
    files = read_manifest(data_dir)["files"]
    return all(_recorded(data_dir, files.get(f"{weights.folder}/{name}"), weights, name) for name in weights.files)


def _recorded(data_dir: Path, entry: dict[str, Any] | None, weights: Weights, name: str) -> bool:
    if not entry or entry.get("repo") != weights.repo_id:
        return False
    try:
        stat = (folder(data_dir, weights) / name).stat()
    except OSError:
        return False
    return stat.st_size == entry.get("size") and stat.st_mtime_ns == entry.get("mtime_ns")


# ---------------------------------------------------------------- fetching


@dataclass(frozen=True)
class Published:
    """A file as the hub publishes it at one commit."""

    size: int
    algorithm: str  # "sha256" (Git LFS) or "git-sha1" (the Git blob id)
    checksum: str


def fetch(data_dir: Path, sets: tuple[Weights, ...] = ALL, out=sys.stdout) -> None:
    """Fetches every set into the data folder; raises WeightsError naming what went wrong."""
    from huggingface_hub import HfApi

    api = HfApi()
    problems = []
    for weights in sets:
        print(f"{weights.what}: {weights.repo_id}", file=out, flush=True)
        try:
            info = api.model_info(weights.repo_id, revision=weights.revision, files_metadata=True)
        except Exception as error:  # huggingface_hub raises httpx's and its own errors here
            raise WeightsError(
                f"the model hub cannot be reached or has no {weights.repo_id} ({_first_line(error)}); "
                "run `make weights` where the hub can be reached, or set HF_ENDPOINT to a mirror"
            ) from None
        published = {
            sibling.rfilename: Published(sibling.lfs.size, "sha256", sibling.lfs.sha256)
            if sibling.lfs
            else Published(sibling.size or 0, "git-sha1", sibling.blob_id or "")
            for sibling in info.siblings or []
        }
        for name in weights.files:
            if name not in published:
                raise WeightsError(f"{weights.repo_id} has no file {name} at {info.sha}: the list in infra/weights.py")
            try:
                _fetch_file(data_dir, weights, name, info.sha or weights.revision, published[name], out)
            except WeightsError as error:
                problems.append(str(error))
    if problems:
        raise WeightsError("; ".join(problems))


def _fetch_file(data_dir: Path, weights: Weights, name: str, commit: str, published: Published, out) -> None:
    from huggingface_hub import hf_hub_download

    path = folder(data_dir, weights) / name
    key = f"{weights.folder}/{name}"
    files = read_manifest(data_dir)["files"]
    entry = files.get(key)
    if _recorded(data_dir, entry, weights, name) and entry and entry.get(published.algorithm) == published.checksum:
        print(f"  {name}: complete", file=out, flush=True)
        return
    if not (path.is_file() and _checksum(path, published.algorithm) == published.checksum):
        # huggingface_hub draws its own progress bar, and writes the file under its name only when
        # whole. Forced where a file is there: its own records would take a damaged one for complete.
        local_dir = folder(data_dir, weights)
        hf_hub_download(weights.repo_id, name, revision=commit, local_dir=local_dir, force_download=path.exists())
        found = _checksum(path, published.algorithm)
        if found != published.checksum:
            path.unlink(missing_ok=True)
            raise WeightsError(
                f"{weights.repo_id}/{name}: its {published.algorithm} is {found}, the hub publishes "
                f"{published.checksum}; the download was damaged or is not the published file, so it was "
                "removed: run `make weights` again"
            )
    stat = path.stat()
    record = {
        "repo": weights.repo_id,
        "commit": commit,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        published.algorithm: published.checksum,
    }
    _write_manifest(data_dir, {**files, key: record})
    print(f"  {name}: {stat.st_size:,} bytes, {published.algorithm} {published.checksum} checked", file=out, flush=True)


def _checksum(path: Path, algorithm: str) -> str:
    """The file's SHA-256, or its Git blob id (SHA-1 over "blob <size>\\0" and the bytes)."""
    from tqdm import tqdm

    digest = hashlib.sha256() if algorithm == "sha256" else hashlib.sha1(usedforsecurity=False)
    size = path.stat().st_size
    if algorithm != "sha256":
        digest.update(f"blob {size}\0".encode())
    with path.open("rb") as file, tqdm(total=size, unit="B", unit_scale=True, desc="checksum", leave=False) as bar:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _write_manifest(data_dir: Path, files: dict[str, Any]) -> None:
    path = data_dir / FOLDER / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"files": files}, indent=2, sort_keys=True))
    os.replace(partial, path)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.weights", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="default: ANIMBOOKS_DATA_DIR, or ./.data")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(os.environ.get("ANIMBOOKS_DATA_DIR") or ".data")
    try:
        fetch(data_dir)
    except WeightsError as error:
        print(f"make weights: {error}", file=sys.stderr)
        return 1
    print(f"Every weight is in {data_dir / FOLDER}: `make run` renders real clips and drafts with the local model.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
