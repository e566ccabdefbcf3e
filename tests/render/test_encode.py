"""The encoder writes what browsers play: H.264, yuv420p, faststart, exactly 15 s."""

import os

import numpy as np
import pytest
from PIL import Image

from animate_job.encode import atomic_path, burn_subtitles, write_mp4, write_poster, write_preview
from tests.media import decode_frames, probe, top_level_boxes, webp_frame_durations


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    """120 frames of a square moving across a gradient: motion the encoder must keep."""
    x = np.linspace(0, 255, 64, dtype=np.uint8)
    clip = np.zeros((120, 64, 64, 3), dtype=np.uint8)
    clip[..., 0] = x[None, None, :]
    clip[..., 2] = x[None, :, None]
    for index in range(120):
        left = index * 48 // 120
        clip[index, 24:40, left : left + 16] = 255
    return clip


@pytest.mark.parametrize("output_fps, frame_count", [(8, 120), (24, 360)])
def test_mp4_is_browser_ready_and_exactly_15_seconds(tmp_path, frames, output_fps, frame_count):
    path = tmp_path / "clip.mp4"
    write_mp4(frames, path, fps=8, output_fps=output_fps, duration_s=15.0, title="Neva")
    info = probe(path)
    assert (info["codec"], info["pix_fmt"]) == ("h264", "yuv420p")
    assert info["fps"] == output_fps and info["size"] == (64, 64)
    assert info["frames"] == frame_count
    assert info["duration_s"] == pytest.approx(15.0, abs=1e-6)
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # +faststart


def test_encoded_frames_look_like_the_input(tmp_path, frames):
    path = tmp_path / "clip.mp4"
    write_mp4(frames, path, fps=8, output_fps=8, duration_s=15.0)
    decoded = decode_frames(path)
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 6


def test_non_rgb_frames_are_refused(tmp_path, frames):
    with pytest.raises(ValueError, match="RGB uint8"):
        write_mp4(frames.astype(np.float32), tmp_path / "clip.mp4", fps=8, output_fps=8, duration_s=15.0)


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    final = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError), atomic_path(final) as temporary:
        temporary.write_bytes(b"half a file")
        raise RuntimeError("the encoder died")
    assert os.listdir(tmp_path) == []


def test_an_existing_file_is_replaced_whole(tmp_path):
    final = tmp_path / "clip.mp4"
    final.write_bytes(b"old")
    with atomic_path(final) as temporary:
        assert final.read_bytes() == b"old"  # still the old file while the new one is written
        temporary.write_bytes(b"new")
    assert final.read_bytes() == b"new"
    assert oct(final.stat().st_mode & 0o777) == "0o644"


def test_poster_and_preview(tmp_path, frames):
    write_poster(frames[60], tmp_path / "poster.jpg")
    write_preview(frames, tmp_path / "preview.webp", fps=8)
    with Image.open(tmp_path / "poster.jpg") as poster:
        assert (poster.format, poster.size) == ("JPEG", (64, 64))
    with Image.open(tmp_path / "preview.webp") as preview:
        assert preview.format == "WEBP" and getattr(preview, "is_animated", False)  # set by animated formats
        frame_count = getattr(preview, "n_frames", 1)
    durations = webp_frame_durations(tmp_path / "preview.webp")
    assert len(durations) == frame_count
    assert sum(durations) == pytest.approx(15000, abs=50)  # identical frames merge, the clip stays 15 s
    assert max(durations) >= 250


GREY = 100


def _text_rows_and_columns(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of pixels the subtitles changed on a flat grey frame (H.264 leaves
    flat grey within a few levels, the white text and its dark outline far from it)."""
    changed = np.abs(frame.astype(int) - GREY).max(axis=2) > 40
    return np.nonzero(changed.any(axis=1))[0], np.nonzero(changed.any(axis=0))[0]


@pytest.mark.parametrize(("width", "height"), [(320, 176), (176, 320)])
def test_burned_in_subtitles_are_timed_wrapped_and_inside_the_safe_margins(tmp_path, width, height):
    flat = np.full((24, height, width, 3), GREY, np.uint8)  # 3 s at 8 fps
    write_mp4(flat, tmp_path / "clip.mp4", fps=8, output_fps=8, duration_s=3.0)
    (tmp_path / "clip.vtt").write_text(
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nОн вышел.\n\n"
        "2\n00:00:01.000 --> 00:00:02.000\n"
        "Тварь ли я дрожащая или право имею &amp; &lt;так&gt; он думал, стоя на мосту над тёмной водой\n",
        encoding="utf-8",
    )
    burn_subtitles(tmp_path / "clip.mp4", tmp_path / "clip.vtt", tmp_path / "out.mp4", upright=height > width)
    info = probe(tmp_path / "out.mp4")
    assert info["size"] == (width, height) and info["duration_s"] == pytest.approx(3.0) and info["frames"] == 24
    frames = decode_frames(tmp_path / "out.mp4")
    short_rows, short_columns = _text_rows_and_columns(frames[4])  # 0.5 s: the short line
    long_rows, long_columns = _text_rows_and_columns(frames[12])  # 1.5 s: the long one
    assert len(short_rows) and len(long_rows)
    assert _text_rows_and_columns(frames[20])[0].size == 0  # 2.5 s: no cue, no text
    # At the bottom, inside 5% margins: never in the top half, never at the edges.
    for rows, columns in ((short_rows, short_columns), (long_rows, long_columns)):
        assert rows.min() > height / 2 and rows.max() < height * 0.96
        assert columns.min() >= width * 0.04 and columns.max() <= width * 0.96
    # The long line is broken into lines (taller than the one-line cue), not cut off at the edges.
    assert long_rows.max() - long_rows.min() > 1.6 * (short_rows.max() - short_rows.min())


def test_the_subtitle_font_is_shipped_and_has_cyrillic():
    from PIL import ImageFont

    from animate_job.encode import FONTS

    font = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 20)
    assert font.getname() == ("DejaVu Sans", "Book")

    # A letter the font lacks is drawn as its .notdef box: every Cyrillic one has a glyph of its own.
    def drawn(letter: str) -> tuple:
        mask = font.getmask(letter)
        return mask.size, bytes(mask)

    notdef = drawn("\uffff")  # a noncharacter: no font has it
    for letter in "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя«»—…":
        assert drawn(letter) != notdef, letter
    assert drawn("\u0d05") == notdef  # Malayalam: DejaVu Sans has none, so the check can fail
