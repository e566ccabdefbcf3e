"""The render job: `python -m animate_job run RENDER_ID`.

It receives one thing, the render id. The frozen spec comes from the records; the
clip goes to storage through the storage port; progress and the outcome go to the
records; a usage event goes to the usage sink. Exit status 0 means the render
succeeded (now or before); anything else asks for another attempt, and the render
is marked failed only on the last one.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from animate_job.models import ModelNotAvailable
from animate_job.progress import Progress
from animate_job.renderer import Renderer, RenderOutOfMemory, render_clip
from infra.bootstrap import Adapters
from infra.pricing import render_cost
from infra.usage import UsageEvent

log = logging.getLogger(__name__)

EXIT_RETRY, EXIT_UNKNOWN_RENDER = 1, 2
CONTENT_TYPES = {"video": "video/mp4", "poster": "image/jpeg", "preview": "image/webp", "metadata": "application/json"}

RendererLoader = Callable[[str, str | None], Renderer]


def run_render(
    render_id: str, adapters: Adapters, attempt: int = 1, load_renderer: RendererLoader | None = None
) -> int:
    records, settings = adapters.records, adapters.settings
    render = records.get_render(render_id)
    if render is None:
        log.error("no render %s in the records", render_id)
        return EXIT_UNKNOWN_RENDER
    if render.state == "succeeded":
        return 0  # a second delivery of a finished render: nothing to do
    if not records.mark_running(render_id, attempt):
        log.warning("render %s is %s; attempt %d leaves it alone", render_id, render.state, attempt)
        return 0
    spec = render.spec
    started = time.perf_counter()
    try:
        load = load_renderer or (
            lambda base, adapter: Renderer.load(
                base, adapter, device=settings.device, gpu_speedups=settings.gpu_speedups
            )
        )
        renderer = load(spec.base_model, spec.motion_adapter)
        progress = Progress(lambda stage, value: records.report_progress(render_id, stage, value), min_interval_s=1.0)
        with tempfile.TemporaryDirectory(prefix="render-") as folder:
            files = render_clip(renderer, spec, Path(folder) / "clip.mp4", progress)
            artifacts = {}
            for name, path in files.paths().items():
                key = f"renders/{render_id}/{path.name}"
                adapters.storage.put_file(key, path, CONTENT_TYPES[name])
                artifacts[name] = key
    except Exception as error:  # any failure: the person sees the reason, the queue decides on a retry
        reason = _reason(error)
        log.error("render %s attempt %d failed: %s", render_id, attempt, reason)
        if attempt >= settings.max_attempts:
            records.mark_failed(render_id, reason)
        else:
            records.requeue(render_id, note=f"attempt {attempt} failed: {reason}")
        _record_usage(adapters, render, time.perf_counter() - started, "failed", device=None)
        return EXIT_RETRY
    records.mark_succeeded(render_id, artifacts, files.timings)
    _record_usage(adapters, render, time.perf_counter() - started, "succeeded", device=renderer.device.type)
    return 0


def _reason(error: Exception) -> str:
    if isinstance(error, ModelNotAvailable | RenderOutOfMemory):
        return str(error)
    return f"the renderer stopped: {type(error).__name__}: {error}"


def _record_usage(adapters: Adapters, render, wall_seconds: float, status: str, device: str | None) -> None:
    gpu_seconds = wall_seconds if device == "cuda" else 0.0
    adapters.usage.record(
        UsageEvent(
            kind="render",
            user_id=render.user_id,
            scene_id=render.scene_id,
            render_id=render.id,
            model=render.spec.base_model,
            frames=render.spec.frames,
            wall_seconds=wall_seconds,
            gpu_seconds=gpu_seconds,
            status=status,
            cost_usd=render_cost(wall_seconds, gpu_seconds),
            attributes={"preset": render.spec.preset, "device": device},
        )
    )
