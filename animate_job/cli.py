"""The renderer's command line.

    python -m animate_job render --storyboard scene.json --out clip.mp4 [--preset standard]
    python -m animate_job render --prompt "a lighthouse in a storm" --out clip.mp4

    python -m animate_job run RENDER_ID    # the render job: spec from the records, clip to storage

Exit status of render: 0 when the clip is written; otherwise one line on stderr and
2 for bad input, 3 when the model's weights cannot be found, 4 when out of memory,
1 for anything else. Exit status of run: see animate_job.run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.domain.presets import ASPECTS, CLIP_LENGTHS, DEFAULT_PRESET, PRESETS
from infra.domain.storyboard import Storyboard, describe, one_shot_storyboard, resolve_spec
from infra.settings import ConfigurationError, load_settings

EXIT_BAD_INPUT, EXIT_NO_MODEL, EXIT_OUT_OF_MEMORY, EXIT_FAILED = 2, 3, 4, 1
log = logging.getLogger("animate_job")


class BadInput(Exception):
    """Something the person typed or wrote must change; the message says what."""


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except ConfigurationError as error:
        return _fail(EXIT_BAD_INPUT, str(error))
    return args.command(args)


class CloudRunTask(BaseSettings):
    """What Cloud Run sets in a job task's environment (its documented container contract).
    Outside Cloud Run: one task, first attempt."""

    model_config = SettingsConfigDict(env_prefix="CLOUD_RUN_", extra="ignore")

    job: str | None = None
    execution: str | None = None
    task_index: int = Field(default=0, ge=0)
    task_attempt: int = Field(default=0, ge=0)  # counts from 0
    task_count: int = Field(default=1, ge=1)

    @classmethod
    def from_environment(cls) -> CloudRunTask:
        try:
            return cls()
        except ValidationError as error:
            problem = error.errors()[0]
            name = f"CLOUD_RUN_{str(problem['loc'][0]).upper()}"
            raise ConfigurationError(f"configuration: {name}={problem['input']!r}: {problem['msg']}") from None


def _parser() -> argparse.ArgumentParser:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m animate_job", description="Animated Books renderer")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    render = commands.add_parser("render", help="render a storyboard into a 15-second MP4")
    source = render.add_mutually_exclusive_group(required=True)
    source.add_argument("--storyboard", type=Path, help="storyboard JSON file")
    source.add_argument("--prompt", help="render one shot from this text instead of a storyboard")
    render.add_argument("--out", type=Path, required=True, help="where to write the MP4")
    render.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET)
    render.add_argument(
        "--model", default=settings.model, help="tiny, a diffusers model directory, or a hub id (default: %(default)s)"
    )
    render.add_argument(
        "--motion-adapter",
        default=settings.motion_adapter,
        help="motion adapter directory, .safetensors file or hub id",
    )
    render.add_argument("--seed", type=int, help="overrides the storyboard's seed")
    render.add_argument("--aspect", choices=list(ASPECTS), help="the frame's shape; overrides the storyboard's")
    render.add_argument(
        "--clip-seconds",
        type=int,
        choices=list(CLIP_LENGTHS),
        help="the clip's length (FreeNoise over 8 frames a second); overrides the storyboard's. "
        "Plans limit the site's lengths, not this command's",
    )
    render.add_argument("--style", default="", help="art style, with --prompt")
    render.add_argument("--width", type=int, help="frame width in pixels (multiple of 8)")
    render.add_argument("--height", type=int, help="frame height in pixels (multiple of 8)")
    render.add_argument("--device", choices=["auto", "cpu", "cuda"], default=settings.device)
    render.add_argument(
        "--gpu-speedups",
        action=argparse.BooleanOptionalAction,
        default=settings.gpu_speedups,
        help="on a CUDA GPU, render with the measured speedups (default: %(default)s)",
    )
    render.set_defaults(command=_render)

    run = commands.add_parser("run", help="make a queued render from the records (the render job)")
    run.add_argument(
        "render_id",
        nargs="?",
        default=os.environ.get("RENDER_ID"),
        help="the render to make (default: $RENDER_ID, as the trigger sets it on Cloud Run)",
    )
    run.add_argument(
        "--attempt",
        type=int,
        default=_attempt_from_environment(),
        help="which try of this render this is, from 1 (default: $ANIMBOOKS_RENDER_ATTEMPT, "
        "else $CLOUD_RUN_TASK_ATTEMPT + 1)",
    )
    run.set_defaults(command=_run)
    return parser


def _attempt_from_environment() -> int:
    if "ANIMBOOKS_RENDER_ATTEMPT" in os.environ:  # the local worker counts from 1
        return int(os.environ["ANIMBOOKS_RENDER_ATTEMPT"])
    return CloudRunTask.from_environment().task_attempt + 1  # Cloud Run counts from 0


def _run(args: argparse.Namespace) -> int:
    from infra.job_lifeline import die_with_worker

    die_with_worker()  # before the slow imports: a job whose worker is gone must not start
    from animate_job.run import run_render
    from infra import json_logging
    from infra.bootstrap import bootstrap

    json_logging.configure()
    if not args.render_id:
        return _fail(EXIT_BAD_INPUT, "no render id: pass RENDER_ID as an argument or in the environment")
    task = CloudRunTask.from_environment()
    if task.task_count != 1 or task.task_index != 0:
        # The trigger runs one task per render (taskCount 1); more tasks would render it twice.
        return _fail(EXIT_BAD_INPUT, f"a render runs as one task, not task {task.task_index} of {task.task_count}")
    if task.execution:
        log.info(
            "render %s attempt %d: Cloud Run job %s, execution %s",
            args.render_id,
            args.attempt,
            task.job,
            task.execution,
        )
    adapters = bootstrap()
    try:
        return run_render(args.render_id, adapters, attempt=args.attempt)
    finally:
        adapters.usage.flush()  # the job's usage is sent before it exits


def _render(args: argparse.Namespace) -> int:
    # Heavy imports here, so that --help and bad arguments answer at once.
    from animate_job.models import ModelNotAvailable
    from animate_job.progress import Progress
    from animate_job.renderer import Renderer, RenderOutOfMemory, render_clip

    try:
        storyboard_data = _storyboard_data(args)
        if args.aspect and isinstance(storyboard_data, dict):
            storyboard_data["aspect"] = args.aspect
        if args.clip_seconds and isinstance(storyboard_data, dict):
            storyboard_data["clip_seconds"] = args.clip_seconds
        renderer = Renderer.load(args.model, args.motion_adapter, device=args.device, gpu_speedups=args.gpu_speedups)
        storyboard = Storyboard.model_validate(storyboard_data, context={"token_counter": renderer.token_counter})
        spec = resolve_spec(
            storyboard,
            args.preset,
            base_model=args.model,
            motion_adapter=args.motion_adapter,
            seed=args.seed,
            width=args.width,
            height=args.height,
        )
        with _ProgressBar() as bar:
            files = render_clip(renderer, spec, args.out, Progress(bar.update, min_interval_s=0.1))
    except BadInput as error:
        return _fail(EXIT_BAD_INPUT, str(error))
    except ValidationError as error:
        what = "storyboard" if error.title == "Storyboard" else "render settings"
        return _fail(EXIT_BAD_INPUT, f"invalid {what}: {describe(error)}")
    except ModelNotAvailable as error:
        return _fail(EXIT_NO_MODEL, str(error))
    except RenderOutOfMemory as error:
        return _fail(EXIT_OUT_OF_MEMORY, str(error))
    except ValueError as error:
        return _fail(EXIT_BAD_INPUT, str(error))
    except Exception as error:  # one line for the person; a traceback helps nobody at the terminal
        return _fail(EXIT_FAILED, f"render failed: {type(error).__name__}: {error}")
    print(f"wrote {files.video} ({spec.width}x{spec.height}, {spec.duration_s:g} s, preset {spec.preset})")
    return 0


def _storyboard_data(args: argparse.Namespace) -> dict:
    if args.prompt is not None:
        return one_shot_storyboard(args.prompt, style=args.style, seed=args.seed or 0).model_dump()
    try:
        return json.loads(args.storyboard.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"no storyboard file at {args.storyboard}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{args.storyboard} is not UTF-8 text; save it as UTF-8 JSON") from None
    except json.JSONDecodeError as error:
        raise BadInput(
            f"{args.storyboard} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None


def _fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


class _ProgressBar:
    """A terminal progress bar; silent when stderr is not a terminal."""

    def __enter__(self):
        from tqdm import tqdm

        self._bar = tqdm(
            desc="loading",
            total=100,
            unit="%",
            bar_format="{desc:<10} {bar} {n:.0f}% {elapsed}<{remaining}",
            disable=None,
        )
        return self

    def update(self, stage: str, progress: float) -> None:
        self._bar.set_description_str(stage, refresh=False)
        self._bar.update(progress * 100 - self._bar.n)

    def __exit__(self, *exc_info) -> None:
        self._bar.close()
