"""Reading back what the encoder wrote, with the same bundled ffmpeg."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np


def probe(path: Path) -> dict:
    """Codec, pixel format, frame rate, frame count and duration of a video file."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return {
        "codec": meta["codec"],
        "pix_fmt": meta["pix_fmt"].split("(")[0],
        "fps": meta["fps"],
        "size": tuple(meta["size"]),
        "frames": frames,
        "duration_s": seconds,
    }


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types in file order (ftyp, moov, mdat, ...)."""
    boxes = []
    with open(path, "rb") as file:
        while header := file.read(8):
            size, kind = struct.unpack(">I4s", header)
            if size == 1:  # a 64-bit size follows the type
                size = struct.unpack(">Q", file.read(8))[0]
                file.seek(size - 16, 1)
            else:
                file.seek(size - 8, 1)
            boxes.append(kind.decode("latin-1"))
            if size == 0:  # the box runs to the end of the file
                break
    return boxes


def decode_frames(path: Path) -> np.ndarray:
    """Every frame of a video as (frames, height, width, 3) uint8 RGB."""
    width, height = probe(path)["size"]
    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def webp_frame_durations(path: Path) -> list[int]:
    """Each frame's display time in ms, read from an animated WebP's ANMF chunks."""
    data = Path(path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", "not a WebP file"
    durations, offset = [], 12
    while offset + 8 <= len(data):
        kind, size = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        if kind == b"ANMF":  # x, y, width-1, height-1 (3 bytes each), then a 3-byte duration
            durations.append(int.from_bytes(data[offset + 20 : offset + 23], "little"))
        offset += 8 + size + (size & 1)
    return durations
