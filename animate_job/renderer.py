"""The render engine: a render spec becomes frames through AnimateDiff with FreeNoise.

`Renderer` holds one loaded pipeline and renders any number of specs with it, so the
weights are loaded once per process. `render_clip` then writes the frames as the
files a clip is made of (animate_job.encode).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import diffusers
import numpy as np
import torch
import transformers
from diffusers import AnimateDiffPipeline

from animate_job import encode
from animate_job import gpu_speedups as speedups
from animate_job.models import load_pipeline
from animate_job.progress import Progress
from infra.domain import failures, subtitles
from infra.domain.presets import TINY_MODEL
from infra.domain.prompt_tokens import TokenCounter, TokenizerCounter
from infra.domain.storyboard import RenderSpec, frame_prompts


class RenderOutOfMemory(Exception):
    """The device ran out of memory; the message says what to change."""


@dataclass
class RenderedFrames:
    frames: np.ndarray  # (frames, height, width, 3) uint8, at spec.fps_render
    timings: dict[str, float] = field(default_factory=dict)
    memory: dict[str, dict[str, float]] = field(default_factory=dict)  # MiB by stage: see PeakMemory


class PeakMemory:
    """The memory a stage of a render held at its peak, in MiB, as `figures` once the block ends:

    - host_start, host_peak: the process's resident set when the stage began, and the most
      it reached, sampled every 10 ms by a thread (a CPU tensor's memory has no counter of
      its own, and resetting the kernel's high-water mark would falsify the process's peak
      for anyone else who reads it); a peak shorter than 10 ms may be missed;
    - cuda_peak_allocated, cuda_peak_reserved: on CUDA, the caching allocator's own peaks
      over the stage, exact (its peak counters are reset at the stage's start).
    """

    interval_s = 0.01

    def __init__(self, device: torch.device):
        self.device = device
        self.figures: dict[str, float] = {}

    def __enter__(self) -> PeakMemory:
        self._start = self._peak = _resident_bytes()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
        self._sampler.start()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._peak = max(self._peak, _resident_bytes())

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._sampler.join()
        self._peak = max(self._peak, _resident_bytes())
        self.figures = {"host_start": _mib(self._start), "host_peak": _mib(self._peak)}
        if self.device.type == "cuda":
            self.figures["cuda_peak_allocated"] = _mib(torch.cuda.max_memory_allocated(self.device))
            self.figures["cuda_peak_reserved"] = _mib(torch.cuda.max_memory_reserved(self.device))


@dataclass
class ClipFiles:
    video: Path
    poster: Path
    preview: Path
    metadata: Path
    #: The shots' quotes as WebVTT, and the clip with them burned in: only when a shot has one.
    subtitles: Path | None = None
    subtitled: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def paths(self) -> dict[str, Path]:
        paths = {"video": self.video, "poster": self.poster, "preview": self.preview, "metadata": self.metadata}
        if self.subtitles is not None and self.subtitled is not None:
            paths |= {"subtitles": self.subtitles, "subtitled": self.subtitled}
        return paths


def pick_device(requested: str = "auto") -> tuple[torch.device, torch.dtype]:
    """The device to render on and its number format: bf16 on a GPU, fp32 on a CPU."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for, but this machine has no usable CUDA GPU")
        return device, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return device, torch.float32


class Renderer:
    """One loaded AnimateDiff pipeline, ready to render specs for that model."""

    def __init__(
        self,
        pipeline: AnimateDiffPipeline,
        *,
        base_model: str,
        motion_adapter: str | None,
        device: torch.device,
        load_s: float = 0.0,
        gpu_speedups: bool = True,
        load_memory: dict[str, float] | None = None,
    ):
        self.pipeline = pipeline
        self.base_model = base_model
        self.motion_adapter = motion_adapter
        self.device = device
        self.load_s = load_s
        self.load_memory = load_memory or {}
        # Only on CUDA: on a CPU the renderer stays exactly as diffusers runs it.
        self.gpu_speedups = gpu_speedups and device.type == "cuda"
        if self.gpu_speedups:
            speedups.prepare(pipeline)
        self._scheduler_config = dict(pipeline.scheduler.config)
        pipeline.set_progress_bar_config(disable=True)  # progress goes through our callback

    @classmethod
    def load(
        cls, base_model: str, motion_adapter: str | None = None, device: str = "auto", gpu_speedups: bool = True
    ) -> Renderer:
        started = time.perf_counter()
        torch_device, dtype = pick_device(device)
        with PeakMemory(torch_device) as memory:
            pipeline = load_pipeline(base_model, motion_adapter, device=torch_device, dtype=dtype)
        return cls(
            pipeline,
            base_model=base_model,
            motion_adapter=motion_adapter,
            device=torch_device,
            load_s=time.perf_counter() - started,
            gpu_speedups=gpu_speedups,
            load_memory=memory.figures,
        )

    @property
    def token_counter(self) -> TokenCounter | None:
        """The model's own tokenizer, for exact prompt lengths; None for the tiny model,
        whose byte-level tokenizer counts far more tokens than CLIP's real one."""
        return None if self.base_model == TINY_MODEL else TokenizerCounter(self.pipeline.tokenizer)

    def render(self, spec: RenderSpec, progress: Progress | None = None) -> RenderedFrames:
        if (spec.base_model, spec.motion_adapter) != (self.base_model, self.motion_adapter):
            raise ValueError(
                f"this renderer holds {self.base_model} + {self.motion_adapter}, "
                f"the spec asks for {spec.base_model} + {spec.motion_adapter}"
            )
        progress = progress or Progress(None)
        progress.report("loading", 1.0)
        pipe = self.pipeline
        scheduler_class = getattr(diffusers, spec.scheduler.name)
        pipe.scheduler = scheduler_class.from_config(self._scheduler_config, **spec.scheduler.options)
        pipe.enable_free_noise(context_length=spec.context_length, context_stride=spec.context_stride)
        if self.gpu_speedups:
            speedups.batch_free_noise_windows(pipe)

        def step_done(_pipe, step: int, _timestep, callback_kwargs):
            progress.report("denoising", (step + 1) / spec.steps)
            return callback_kwargs

        timings = {"load_s": self.load_s}
        memory = {"load": self.load_memory}
        started = time.perf_counter()
        try:
            with torch.inference_mode(), PeakMemory(self.device) as denoise_memory:
                latents = pipe(
                    prompt=frame_prompts(spec),
                    negative_prompt=spec.storyboard.negative_prompt,
                    num_frames=spec.frames,
                    width=spec.width,
                    height=spec.height,
                    num_inference_steps=spec.steps,
                    guidance_scale=spec.guidance,
                    generator=torch.Generator("cpu").manual_seed(spec.seed),
                    output_type="latent",
                    callback_on_step_end=step_done,
                ).frames
                self._synchronize()
            timings["denoise_s"] = time.perf_counter() - started
            memory["denoise"] = denoise_memory.figures
            progress.report("decoding", 0.0)
            started = time.perf_counter()
            chunk = spec.decode_chunk_size
            with torch.inference_mode(), PeakMemory(self.device) as decode_memory:
                frames = self.decode(
                    latents, speedups.decode_chunk_size(chunk) if self.gpu_speedups else chunk, progress
                )
            timings["decode_s"] = time.perf_counter() - started
            memory["decode"] = decode_memory.figures
        except (MemoryError, RuntimeError) as error:  # torch.OutOfMemoryError is a RuntimeError
            if not _is_out_of_memory(error):
                raise
            raise RenderOutOfMemory(failures.out_of_memory(self.device.type, spec.width, spec.height)) from error
        progress.report("decoding", 1.0)
        return RenderedFrames(frames=frames, timings=timings, memory=memory)

    def decode(self, latents: torch.Tensor, chunk_size: int, progress: Progress | None = None) -> np.ndarray:
        """The first video's frames as bytes, (frames, height, width, 3) uint8: what diffusers'
        `decode_latents`, `denormalize` and a rounding to bytes give, a chunk of frames at a time.

        Each chunk is decoded, made bytes where it is, and copied into one array allocated
        once, so the float video never exists whole (diffusers keeps it whole in three or
        more copies: 1.5 GiB at 512x512 and 120 frames). The same operations on the same
        chunks, so the same bytes (tests/render/test_tiny.py holds it to diffusers' own).
        """
        progress = progress or Progress(None)
        vae = self.pipeline.vae
        latents = 1 / vae.config.scaling_factor * latents
        batch, channels, count, height, width = latents.shape
        latents = latents.permute(0, 2, 1, 3, 4).reshape(batch * count, channels, height, width)
        frames: np.ndarray | None = None
        for first in range(0, count, chunk_size):  # the first video's frames: a render makes one
            images = vae.decode(latents[first : first + chunk_size]).sample.float()
            chunk = _to_bytes(self.pipeline.video_processor.denormalize(images))
            if frames is None:
                frames = np.empty((count, *chunk.shape[1:]), dtype=np.uint8)
            torch.from_numpy(frames[first : first + len(chunk)]).copy_(chunk)
            progress.report("decoding", (first + len(chunk)) / count)
        assert frames is not None  # a spec has at least one frame
        return frames

    def _synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def render_clip(
    renderer: Renderer,
    spec: RenderSpec,
    video_path: Path,
    progress: Progress | None = None,
) -> ClipFiles:
    """Renders `spec` and writes the clip, its poster, preview and metadata beside `video_path`.

    The metadata is written last, so its presence means the clip is complete.
    """
    started = time.perf_counter()
    progress = progress or Progress(None)
    rendered = renderer.render(spec, progress)
    progress.report("encoding", 0.0)
    encode_started = time.perf_counter()
    files = clip_files(video_path)
    with PeakMemory(renderer.device) as encode_memory:
        encode.write_mp4(
            rendered.frames,
            files.video,
            fps=spec.fps_render,
            output_fps=spec.output_fps,
            duration_s=spec.duration_s,
            title=spec.storyboard.title,
        )
        encode.write_poster(rendered.frames[len(rendered.frames) // 2], files.poster)
        encode.write_preview(rendered.frames, files.preview, fps=spec.fps_render)
    timings = dict(rendered.timings, encode_s=time.perf_counter() - encode_started)
    memory = dict(rendered.memory, encode=encode_memory.figures)
    spoken = subtitles.cues(spec.storyboard, spec.duration_s)
    if spoken:
        burn_started = time.perf_counter()
        files.subtitles, files.subtitled = encode.write_subtitled(
            files.video, subtitles.webvtt(spoken), upright=spec.height > spec.width
        )
        timings["burn_s"] = time.perf_counter() - burn_started
    timings["render_s"] = time.perf_counter() - started
    rounded_timings = {name: round(seconds, 3) for name, seconds in timings.items()}
    metadata = {
        "spec": spec.model_dump(mode="json"),
        "spec_fingerprint": spec.fingerprint(),
        "model": {
            "base_model": spec.base_model,
            "motion_adapter": spec.motion_adapter,
            "built_in_demo": spec.base_model == TINY_MODEL,
        },
        "output": {
            "frames_rendered": int(rendered.frames.shape[0]),
            "fps": spec.output_fps,
            "duration_s": spec.duration_s,
            "width": spec.width,
            "height": spec.height,
            "codec": "h264",
            "pix_fmt": "yuv420p",
            "subtitles": len(spoken),
        },
        "device": {
            "type": renderer.device.type,
            "name": _device_name(renderer.device),
            "dtype": str(renderer.pipeline.unet.dtype).removeprefix("torch."),
            "gpu_speedups": renderer.gpu_speedups,
        },
        "versions": _versions(),
        "timings": rounded_timings,
        # MiB by stage (animate_job.renderer.PeakMemory says what each figure is).
        "memory_mib": {
            stage: {name: round(mib, 1) for name, mib in figures.items()} for stage, figures in memory.items()
        },
    }
    with encode.atomic_path(files.metadata) as temporary:
        temporary.write_text(json.dumps(metadata, indent=2))
    progress.report("encoding", 1.0)
    files.timings = rounded_timings
    return files


def clip_files(video_path: Path) -> ClipFiles:
    """Where a clip's files go: clip.mp4, clip.poster.jpg, clip.preview.webp, clip.metadata.json."""
    stem = video_path.with_suffix("")
    return ClipFiles(
        video=video_path,
        poster=stem.with_name(stem.name + ".poster.jpg"),
        preview=stem.with_name(stem.name + ".preview.webp"),
        metadata=stem.with_name(stem.name + ".metadata.json"),
    )


def _to_bytes(images: torch.Tensor) -> torch.Tensor:
    """[frames, channels, height, width] in 0..1 to [frames, height, width, 3] uint8, rounded
    to nearest. Done where the frames are, so a quarter of the bytes cross to the host."""
    return (images * 255).round().to(torch.uint8).permute(0, 2, 3, 1)


def _resident_bytes() -> int:
    """The process's resident set now (Linux: /proc; elsewhere its peak so far, the best there is)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def _mib(size: int) -> float:
    return size / 2**20


# What torch's CPU allocator says when an allocation fails: "not enough memory" when it
# checks a size itself, "can't allocate memory ... Error code 12 (Cannot allocate memory)"
# when the operating system refuses (a container's or a ulimit's cap).
_CPU_OUT_OF_MEMORY = ("not enough memory", "can't allocate memory", "Cannot allocate memory")


def _is_out_of_memory(error: BaseException) -> bool:
    # CUDA raises OutOfMemoryError; the CPU allocator raises a plain RuntimeError.
    return isinstance(error, (torch.OutOfMemoryError, MemoryError)) or any(
        words in str(error) for words in _CPU_OUT_OF_MEMORY
    )


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "ffmpeg": encode.ffmpeg_version(),
    }
