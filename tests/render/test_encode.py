"""The encoder writes what browsers play: H.264, yuv420p, faststart, exactly 15 s."""

import os

import numpy as np
import pytest
from PIL import Image

from animate_job.encode import atomic_path, write_mp4, write_poster, write_preview
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
