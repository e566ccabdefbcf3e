"""Writing rendered frames as what a browser plays: H.264 MP4, a poster, a preview.

Uses the ffmpeg binary that imageio-ffmpeg bundles, so no system ffmpeg is needed.
Every file is written under a temporary name in its final folder and renamed when
complete: a crash never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

PREVIEW_WIDTH = 192
PREVIEW_FPS = 4
#: How the high preset's in-between frames are made: a blend of the two frames around each.
#: Motion-compensated interpolation (mi_mode=mci) runs on one core and took 28 times as
#: long (73.5 s against 2.6 s for 120 frames of 512x512 here, under load; 13-15 s unloaded,
#: twenty times the whole 8 fps encode) for in-between frames 0.3 dB closer to the true
#: ones (31.96 against 31.67 dB PSNR on moving shapes; repeating frames: 30.07 dB).
#: docs/architecture.md has the measurement.
INTERPOLATION = "mi_mode=blend"
#: Every MP4 we write, in one place so the clip, the subtitled copy and the reel cannot drift
#: apart: H.264 in 4:2:0 (what every browser decodes), near-transparent quality (CRF 18) at
#: a fast preset, and the index first (+faststart) so playback starts while it downloads.
H264_CODEC = "libx264"
H264_PIXELS = "yuv420p"
H264_QUALITY = ["-crf", "18", "-preset", "veryfast", "-movflags", "+faststart"]
H264_OUTPUT = ["-c:v", H264_CODEC, "-pix_fmt", H264_PIXELS, *H264_QUALITY]


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yields a temporary path beside `final`; renames it to `final` if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.", suffix=f".partial{final.suffix}")
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; a clip is meant to be read by others
        os.replace(temporary, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def write_mp4(
    frames: np.ndarray,
    path: Path,
    *,
    fps: int,
    output_fps: int,
    duration_s: float,
    title: str = "",
) -> None:
    """Encodes `frames` (N, H, W, 3 uint8) shown at `fps` as an H.264 MP4 of exactly `duration_s`.

    With `output_fps` above `fps`, ffmpeg's minterpolate makes the in-between frames by
    blending their neighbours (INTERPOLATION). `+faststart` puts the index (moov) before
    the media (mdat), so a browser starts playing while the file still downloads.
    """
    _, height, width, channels = frames.shape
    if channels != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be RGB uint8, got {channels} channels of {frames.dtype}")
    # Hold the last frame a second longer, then cut at the exact duration: interpolation
    # otherwise ends a few frames short of the last input frame.
    filters = ["tpad=stop_mode=clone:stop_duration=1"]
    if output_fps != fps:
        filters.append(f"minterpolate=fps={output_fps}:{INTERPOLATION}")
    with atomic_path(path) as temporary:
        writer = imageio_ffmpeg.write_frames(
            str(temporary),
            (width, height),
            fps=fps,
            codec=H264_CODEC,
            quality=None,
            macro_block_size=8,
            pix_fmt_out=H264_PIXELS,
            ffmpeg_log_level="error",
            output_params=[
                "-vf",
                ",".join(filters),
                "-r",
                str(output_fps),
                "-t",
                f"{duration_s:.3f}",
                *H264_QUALITY,
                "-metadata",
                f"title={title}",
                "-f",
                "mp4",
            ],
        )
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()


def write_poster(frame: np.ndarray, path: Path) -> None:
    """One frame as the JPEG a video player shows before it plays."""
    with atomic_path(path) as temporary:
        Image.fromarray(frame).save(temporary, format="JPEG", quality=90)


def write_preview(frames: np.ndarray, path: Path, *, fps: int) -> None:
    """A small animated WebP of the whole clip, for lists and the gallery's hover."""
    step = max(1, round(fps / PREVIEW_FPS))
    images = []
    for frame in frames[::step]:
        image = Image.fromarray(frame)
        if image.width > PREVIEW_WIDTH:
            image = image.resize(
                (PREVIEW_WIDTH, round(image.height * PREVIEW_WIDTH / image.width)), Image.Resampling.LANCZOS
            )
        images.append(image)
    with atomic_path(path) as temporary:
        images[0].save(
            temporary,
            format="WEBP",
            save_all=True,
            append_images=images[1:],
            duration=round(1000 * step / fps),
            loop=0,
            quality=70,
        )


def ffmpeg_version() -> str:
    return imageio_ffmpeg.get_ffmpeg_version()


FONTS = Path(__file__).parent / "fonts"  # DejaVu Sans, shipped with the job: the same glyphs everywhere
SUBTITLE_FONT = "DejaVu Sans"
# libass lays subtitles out on a 384x288 canvas (PlayResX/Y, ffmpeg's default for text
# subtitles) scaled to the frame. Margins of 5% on each side and at the bottom keep the
# text inside the graphics-safe area (EBU R 95); FontSize 16 is 1/18 of the height, and
# an upright frame, narrow for its height, gets a smaller one to keep a few words a line.
SUBTITLE_MARGIN_X, SUBTITLE_MARGIN_Y = 19, 14


def burn_subtitles(video: Path, subtitles: Path, path: Path, *, upright: bool = False) -> None:
    """Writes `video` again with the WebVTT `subtitles` drawn into its frames by ffmpeg's
    subtitles filter (libass): white DejaVu Sans with a dark outline, wrapped to lines of
    even length (WrapStyle 0), bottom-centred inside the safe margins."""
    style = ",".join(
        [
            f"FontName={SUBTITLE_FONT}",
            f"FontSize={11 if upright else 16}",
            "PrimaryColour=&H00FFFFFF",
            "OutlineColour=&H00000000",
            "BorderStyle=1",
            "Outline=1.5",
            "Shadow=0",
            "Alignment=2",
            f"MarginL={SUBTITLE_MARGIN_X}",
            f"MarginR={SUBTITLE_MARGIN_X}",
            f"MarginV={SUBTITLE_MARGIN_Y}",
            "WrapStyle=0",
        ]
    )
    with tempfile.TemporaryDirectory(prefix="burn-") as folder, atomic_path(path) as temporary:
        # Relative names inside a folder of our own: nothing in a path needs filter escaping.
        work = Path(folder)
        (work / "subtitles.vtt").write_bytes(subtitles.read_bytes())
        (work / "fonts").symlink_to(FONTS, target_is_directory=True)
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-y",
            "-loglevel",
            "warning",
            "-i",
            str(video.resolve()),
            "-vf",
            f"subtitles=subtitles.vtt:fontsdir=fonts:force_style='{style}'",
            *H264_OUTPUT,
            "-f",
            "mp4",
            str(temporary.resolve()),
        ]
        result = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ffmpeg could not burn the subtitles in: {result.stderr.strip()[-500:]}")
        missing = [line for line in result.stderr.splitlines() if "glyph" in line.lower()]
        if missing:  # a letter the font lacks would show as a box: better no clip than a wrong one
            raise RuntimeError(f"the subtitle font lacks a letter: {missing[0]}")


def write_subtitled(video: Path, vtt: str, *, upright: bool) -> tuple[Path, Path]:
    """Writes the WebVTT text `vtt` beside `video` (NAME.vtt) and the clip again with it burned
    in (NAME.subtitled.mp4); returns both paths. The clip and the reel share this."""
    stem = video.with_suffix("")
    subtitles = stem.with_name(stem.name + ".vtt")
    subtitled = stem.with_name(stem.name + ".subtitled.mp4")
    with atomic_path(subtitles) as temporary:
        temporary.write_text(vtt, encoding="utf-8")
    burn_subtitles(video, subtitles, subtitled, upright=upright)
    return subtitles, subtitled
