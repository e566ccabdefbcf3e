"""Reading back what the encoder wrote, with the same bundled ffmpeg."""

from __future__ import annotations

import struct
from pathlib import Path

import imageio_ffmpeg


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
