"""The render job: `python -m animate_job run RENDER_ID`.

It receives one thing, the render id. The frozen spec comes from the records; the
clip goes to storage through the storage port; progress and the outcome go to the
records; a usage event goes to the usage sink. Exit status 0 means the render
succeeded (now or before) or is another attempt's now; anything else asks for another
attempt, and the render is marked failed only on the last one.

Each attempt is fenced by a token of its own (the runner, see infra.records): it writes
its files under a folder named by the token, and once a newer attempt has taken the
render over, its progress reports fail, it stops, and it deletes what it wrote.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from animate_job.models import ModelNotAvailable
from animate_job.progress import REEL_STAGES, Progress
from animate_job.reel import assemble_reel
from animate_job.renderer import ClipFiles, Renderer, RenderOutOfMemory, render_clip
from infra.bootstrap import Adapters
from infra.domain import failures
from infra.domain.ids import new_id
from infra.domain.render import Render
from infra.domain.usage import render_attempt_event
from infra.spending import record_render_attempt

log = logging.getLogger(__name__)

EXIT_RETRY, EXIT_UNKNOWN_RENDER = 1, 2
CONTENT_TYPES = {
    "video": "video/mp4",
    "poster": "image/jpeg",
    "preview": "image/webp",
    "metadata": "application/json",
    "subtitles": "text/vtt; charset=utf-8",
    "subtitled": "video/mp4",
}

RendererLoader = Callable[[str, str | None], Renderer]


class Superseded(Exception):
    """A newer attempt holds the render: this one must stop and write nothing."""


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
    runner = new_id()
    if not records.mark_running(render_id, attempt, runner):
        log.warning("render %s is %s; attempt %d leaves it alone", render_id, render.state, attempt)
        return 0
    render = render.model_copy(update={"runner": runner, "attempts": attempt})

    def report(stage: str, value: float) -> None:
        if not records.report_progress(render_id, runner, stage, value):
            raise Superseded(f"render {render_id} was cancelled or taken over by a newer attempt")

    started = time.perf_counter()
    stored: list[str] = []
    device: str | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="render-") as folder:
            if render.reel is not None:  # a book's reel: its clips joined, no model loaded
                # On Cloud Run the job's L4 is attached, and billed, for the whole run, used or not.
                device = "cuda" if settings.mode == "cloud" else "cpu"
                progress = Progress(report, min_interval_s=1.0, stages=REEL_STAGES)
                files = join_reel(render, adapters, Path(folder), progress)
            else:
                load = load_renderer or (
                    lambda base, adapter: Renderer.load(
                        base, adapter, device=settings.device, gpu_speedups=settings.gpu_speedups
                    )
                )
                renderer = load(render.spec.base_model, render.spec.motion_adapter)
                device = renderer.device.type
                progress = Progress(report, min_interval_s=1.0)
                files = render_clip(renderer, render.spec, Path(folder) / "clip.mp4", progress)
            artifacts = {}
            for name, path in files.paths().items():
                key = f"renders/{render_id}/{runner}/{path.name}"
                adapters.storage.put_file(key, path, CONTENT_TYPES[name])
                stored.append(key)
                artifacts[name] = key
        if not records.mark_succeeded(render_id, runner, artifacts, files.timings):
            raise Superseded(f"render {render_id} was cancelled, finished or taken over by another attempt")
    except Superseded as lost:
        now_state = records.get_render(render_id)
        status = "cancelled" if now_state is not None and now_state.state == "cancelled" else "superseded"
        log.warning("render %s attempt %d stops (%s): %s", render_id, attempt, status, lost)
        for key in stored:
            adapters.storage.delete(key)
        record_render_attempt(adapters, render_attempt_event(render, time.perf_counter() - started, status, device))
        return 0
    except Exception as error:  # any failure: the person sees the reason, the queue decides on a retry
        reason = _reason(error)
        log.error("render %s attempt %d failed: %s", render_id, attempt, reason)
        for key in stored:
            adapters.storage.delete(key)
        if attempt >= settings.max_attempts:
            records.mark_failed(render_id, reason, runner=runner)
        else:
            records.requeue(render_id, note=f"attempt {attempt} failed: {reason}", runner=runner)
        record_render_attempt(adapters, render_attempt_event(render, time.perf_counter() - started, "failed", device))
        return EXIT_RETRY
    record_render_attempt(adapters, render_attempt_event(render, time.perf_counter() - started, "succeeded", device))
    return 0


class ReelPartMissing(Exception):
    """A clip the reel joins is gone (deleted since the reel was asked for)."""


def join_reel(render: Render, adapters: Adapters, folder: Path, progress: Progress) -> ClipFiles:
    """Fetches the reel's finished clips and their subtitles from storage, and joins them."""
    assert render.reel is not None
    clips: list[Path] = []
    words: list[str | None] = []
    for index, part in enumerate(render.reel.parts):
        clip = adapters.records.get_render(part.render_id)
        video = clip and clip.state == "succeeded" and clip.artifacts.get("video")
        data = adapters.storage.read_bytes(video) if video else None
        if clip is None or data is None:
            raise ReelPartMissing(failures.part_missing(index + 1))
        path = folder / f"part-{index}.mp4"
        path.write_bytes(data)
        clips.append(path)
        key = clip.artifacts.get("subtitles")
        stored = adapters.storage.read_bytes(key) if key else None
        words.append(stored.decode("utf-8") if stored is not None else None)
    return assemble_reel(render.reel, render.spec, clips, words, folder / "reel.mp4", progress)


def _reason(error: Exception) -> str:
    if isinstance(error, RenderOutOfMemory | ReelPartMissing):
        return str(error)
    if isinstance(error, ModelNotAvailable):
        return failures.model_unavailable(str(error))
    return failures.renderer_stopped(error)
