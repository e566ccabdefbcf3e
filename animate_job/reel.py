"""A book's reel: title cards and the scenes' finished clips joined into one MP4, with one
WebVTT of every clip's words moved to where its clip starts, and the same files a clip has
(poster, preview, metadata, the copy with the words burned in).

It runs in the render job (`run.py` hands a render with a `reel` here), so on Google Cloud
the reel is made by the same Cloud Run job the clips are, started the same way; it needs
no GPU and loads no model. Title cards are drawn with Pillow in DejaVu Sans (the job's
font, so Cyrillic shows) and everything is joined by one ffmpeg run (imageio-ffmpeg's
binary, as the encoder uses): ffmpeg's concat filter, encoded once as H.264 like a clip.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from animate_job import encode
from animate_job.progress import Progress
from animate_job.renderer import ClipFiles, clip_files
from infra.domain import subtitles
from infra.domain.reel import Reel, reel_cues
from infra.domain.storyboard import RenderSpec

FONT = encode.FONTS / "DejaVuSans.ttf"
CARD_BACKGROUND, CARD_TEXT, CARD_SUBTLE = (18, 18, 24), (245, 240, 230), (190, 185, 175)


def draw_card(lines: list[str], width: int, height: int) -> Image.Image:
    """A title card: the book large, the author and the chapter smaller, centred, each line
    wrapped to 90% of the width."""
    card = Image.new("RGB", (width, height), CARD_BACKGROUND)
    draw = ImageDraw.Draw(card)
    laid_out: list[tuple[str, ImageFont.FreeTypeFont, tuple[int, int, int]]] = []
    for index, line in enumerate(lines):
        font = ImageFont.truetype(str(FONT), max(10, height // (11 if index == 0 else 18)))
        colour = CARD_TEXT if index != 1 else CARD_SUBTLE
        laid_out += [(wrapped, font, colour) for wrapped in _wrap(draw, line, font, int(width * 0.9))]
    gap = height // 40
    heights = [_height(draw, text, font) for text, font, _ in laid_out]
    y = (height - sum(heights) - gap * (len(laid_out) - 1)) / 2
    for (text, font, colour), line_height in zip(laid_out, heights, strict=True):
        draw.text((width / 2, y), text, font=font, fill=colour, anchor="ma")
        y += line_height + gap
    return card


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _height(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont) -> int:
    _, top, _, bottom = draw.textbbox((0, 0), text, font=font, anchor="ma")
    return int(bottom - top)


def assemble_reel(
    reel: Reel,
    spec: RenderSpec,
    clips: list[Path],
    clips_subtitles: list[str | None],
    video_path: Path,
    progress: Progress | None = None,
) -> ClipFiles:
    """Joins `clips` (one per part, in order, each `spec.width` x `spec.height`) after their
    title cards into `video_path`, and writes the reel's other files beside it. Each clip's
    WebVTT (None where it has no words) gives the merged subtitles."""
    if len(clips) != len(reel.parts) or len(clips_subtitles) != len(reel.parts):
        raise ValueError(f"a reel of {len(reel.parts)} parts needs as many clips and subtitle files")
    progress = progress or Progress(None)
    started = time.perf_counter()
    files = clip_files(video_path)
    folder = video_path.parent
    fps, width, height = spec.output_fps, spec.width, spec.height
    progress.report("joining", 0.0)
    inputs: list[str] = []
    filters: list[str] = []
    for index, (part, clip) in enumerate(zip(reel.parts, clips, strict=True)):
        card_path = folder / f"card-{index}.png"
        draw_card(reel.card_lines(part), width, height).save(card_path)
        inputs += ["-loop", "1", "-framerate", str(fps), "-t", f"{reel.card_s:.3f}", "-i", str(card_path)]
        inputs += ["-i", str(clip)]
        # Every part the same size, pixel format, frame rate and length, so concat lines them up.
        filters.append(f"[{2 * index}:v]format={encode.H264_PIXELS},setsar=1[card{index}]")
        filters.append(
            f"[{2 * index + 1}:v]scale={width}:{height},setsar=1,fps={fps},format={encode.H264_PIXELS},"
            f"trim=duration={part.duration_s:.3f},setpts=PTS-STARTPTS[clip{index}]"
        )
    joined = "".join(f"[card{index}][clip{index}]" for index in range(len(reel.parts)))
    filters.append(f"{joined}concat=n={2 * len(reel.parts)}:v=1:a=0[reel]")
    with encode.atomic_path(files.video) as temporary:
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-y",
            "-loglevel",
            "error",
            *inputs,
            "-filter_complex",
            ";".join(filters),
            "-map",
            "[reel]",
            *encode.H264_OUTPUT,
            "-r",
            str(fps),
            "-metadata",
            f"title={reel.title}",
            "-f",
            "mp4",
            str(temporary),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ffmpeg could not join the reel: {result.stderr.strip()[-500:]}")
    timings = {"join_s": time.perf_counter() - started}
    progress.report("joining", 0.7)
    first_card = np.asarray(Image.open(folder / "card-0.png").convert("RGB"))
    encode.write_poster(first_card, files.poster)
    encode.write_preview(_preview_frames(files.video, width, height), files.preview, fps=encode.PREVIEW_FPS)
    spoken = reel_cues(reel, [subtitles.parse_webvtt(text) if text else [] for text in clips_subtitles])
    if spoken:
        burn_started = time.perf_counter()
        files.subtitles, files.subtitled = encode.write_subtitled(
            files.video, subtitles.webvtt(spoken), upright=height > width
        )
        timings["burn_s"] = time.perf_counter() - burn_started
    timings["reel_s"] = time.perf_counter() - started
    files.timings = {name: round(seconds, 3) for name, seconds in timings.items()}
    metadata = {
        "reel": reel.model_dump(mode="json"),
        "spec": spec.model_dump(mode="json"),
        "output": {
            "fps": fps,
            "duration_s": reel.duration_s,
            "width": width,
            "height": height,
            "codec": "h264",
            "pix_fmt": "yuv420p",
            "subtitles": len(spoken),
        },
        "versions": {"ffmpeg": encode.ffmpeg_version()},
        "timings": files.timings,
    }
    with encode.atomic_path(files.metadata) as temporary:
        temporary.write_text(json.dumps(metadata, indent=2))
    progress.report("joining", 1.0)
    return files


def _preview_frames(video: Path, width: int, height: int) -> np.ndarray:
    """The reel at the preview's frame rate: what write_preview shrinks and animates."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(video)]
    command += ["-vf", f"fps={encode.PREVIEW_FPS}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(command, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
