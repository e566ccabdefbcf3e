"""How long a book's reel takes to join: 4 scenes of 15 s, at the standard preset's
widescreen size (704x384, 8 fps) and the high preset's (704x384, 24 fps), each clip with
three cues of words. Timed: `assemble_reel` whole (title cards, one H.264 encode of the
joined reel, poster, preview, merged WebVTT, the copy with the words burned in), and its
join and burn-in parts; medians of a few runs. The clips are made first and not timed
(moving colour, so the encoder has work like a real clip's). What the job adds around it,
fetching the clips from storage and storing the reel, is not in these figures.

    python tests/benchmarks/bench_reel.py [--scenes 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from animate_job import encode
from animate_job.reel import assemble_reel
from infra.domain.reel import Reel, ReelPart
from infra.domain.storyboard import RenderSpec, Storyboard, resolve_spec
from infra.domain.subtitles import Cue, webvtt
from tests.benchmarks.report import report


def clip(path: Path, spec: RenderSpec, shade: int) -> None:
    """A clip of moving colour: every frame a gradient shifted a little from the last."""
    ys, xs = np.mgrid[0 : spec.height, 0 : spec.width]
    frames = np.empty((spec.frames, spec.height, spec.width, 3), np.uint8)
    for index in range(spec.frames):
        frames[index, ..., 0] = (xs + 3 * index) % 256
        frames[index, ..., 1] = (ys + 2 * index) % 256
        frames[index, ..., 2] = shade
    encode.write_mp4(frames, path, fps=spec.fps_render, output_fps=spec.output_fps, duration_s=spec.duration_s)


def bench_preset(preset: str, scenes: int, runs: int) -> dict[str, float | str]:
    storyboard = Storyboard.model_validate(
        {"title": "Bench", "aspect": "16:9", "shots": [{"start_s": 0, "prompt": "a bridge at dusk"}]}
    )
    spec = resolve_spec(storyboard, preset, base_model="bench")
    words = webvtt([Cue(0.0, 5.0, "Он вышел на мост."), Cue(5.0, 10.0, "Ветер дул с залива."), Cue(10.0, 15.0, "Нева")])
    with tempfile.TemporaryDirectory(prefix="bench-reel-") as folder:
        work = Path(folder)
        clips = []
        for index in range(scenes):
            clips.append(work / f"clip-{index}.mp4")
            clip(clips[-1], spec, 60 * index % 256)
        parts = [
            ReelPart(scene_id=f"s{n}", render_id=f"r{n}", chapter=f"Глава {n + 1}", duration_s=spec.duration_s)
            for n in range(scenes)
        ]
        reel = Reel(book_id="bench", title="Преступление и наказание", author="Ф. М. Достоевский", parts=parts)
        totals, joins, burns = [], [], []
        for run in range(runs):
            out = work / f"run-{run}"
            out.mkdir()
            started = time.perf_counter()
            files = assemble_reel(reel, spec, clips, [words] * scenes, out / "reel.mp4")
            totals.append(time.perf_counter() - started)
            joins.append(files.timings["join_s"])
            burns.append(files.timings["burn_s"])
    return {
        "size": f"{spec.width}x{spec.height}@{spec.output_fps}fps",
        "reel_s": statistics.median(totals),
        "join_s": statistics.median(joins),
        "burn_s": statistics.median(burns),
        "reel_seconds_of_video": reel.duration_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    results: dict[str, float | int | str] = {"scenes": arguments.scenes, "runs": arguments.runs}
    with open("/proc/loadavg") as handle:
        results["load_average_at_start"] = " ".join(handle.read().split()[:3])
    for preset in ("standard", "high"):
        for key, value in bench_preset(preset, arguments.scenes, arguments.runs).items():
            results[f"{preset}.{key}"] = value
    report("reel", results, {})


if __name__ == "__main__":
    main()
