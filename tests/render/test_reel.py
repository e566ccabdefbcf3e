"""A book's reel, joined by the render job: title cards and finished clips into one MP4 with
one WebVTT, through `run_render` with the local adapters (no model is loaded)."""

import json
from pathlib import Path

import numpy as np
import pytest

from animate_job import encode
from animate_job.reel import CARD_BACKGROUND, assemble_reel, draw_card
from animate_job.run import EXIT_RETRY, run_render
from infra.domain.reel import Reel, ReelPart
from infra.domain.render import Render
from infra.domain.storyboard import RenderSpec, Storyboard, resolve_spec
from infra.domain.subtitles import Cue, webvtt
from tests.media import decode_frames, probe, webp_frame_durations

RED, BLUE = (220, 30, 30), (30, 30, 220)
WIDTH, HEIGHT = 224, 128  # a small 16:9 frame: big enough to read a card, quick to encode


def clip_spec(aspect: str = "16:9") -> RenderSpec:
    storyboard = Storyboard.model_validate(
        {"title": "Part", "aspect": aspect, "shots": [{"start_s": 0, "prompt": "a bridge", "quote": "Он вышел"}]}
    )
    return resolve_spec(storyboard, "draft", width=WIDTH, height=HEIGHT)


def solid_clip(path: Path, colour: tuple[int, int, int], spec: RenderSpec) -> Path:
    frames = np.empty((spec.frames, spec.height, spec.width, 3), np.uint8)
    frames[:] = colour
    encode.write_mp4(frames, path, fps=spec.fps_render, output_fps=spec.output_fps, duration_s=spec.duration_s)
    return path


def reel_of(*render_ids: str, seconds: float = 15.0) -> Reel:
    parts = [
        ReelPart(scene_id=f"scene-{n}", render_id=render_id, chapter=f"Глава {n}", duration_s=seconds)
        for n, render_id in enumerate(render_ids, start=1)
    ]
    return Reel(book_id="book", title="Преступление и наказание", author="Ф. М. Достоевский", parts=parts)


def at(frames: np.ndarray, fps: int, second: float) -> np.ndarray:
    return frames[round(second * fps)].reshape(-1, 3).mean(axis=0)


def test_cards_and_clips_are_joined_in_order_with_their_words_moved(tmp_path):
    spec = clip_spec()
    clips = [solid_clip(tmp_path / "red.mp4", RED, spec), solid_clip(tmp_path / "blue.mp4", BLUE, spec)]
    first_words = webvtt([Cue(0.0, 5.0, "Он вышел на мост."), Cue(10.0, 15.0, "Нева & <небо>")])
    second_words = webvtt([Cue(1.5, 4.0, "Соня читала.")])
    (tmp_path / "reel").mkdir()
    files = assemble_reel(reel_of("r1", "r2"), spec, clips, [first_words, second_words], tmp_path / "reel/reel.mp4")

    info = probe(files.video)
    fps = spec.output_fps
    # card 3 s + clip 15 s + card 3 s + clip 15 s = 36 s, at the clips' size and frame rate
    assert (info["codec"], info["pix_fmt"], info["size"], info["fps"]) == ("h264", "yuv420p", (WIDTH, HEIGHT), fps)
    assert info["frames"] == 36 * fps and info["duration_s"] == pytest.approx(36.0, abs=0.05)
    frames = decode_frames(files.video)
    for second, colour in ((1.0, CARD_BACKGROUND), (10.0, RED), (19.5, CARD_BACKGROUND), (30.0, BLUE)):
        assert at(frames, fps, second) == pytest.approx(colour, abs=25), f"at {second} s"
    card = frames[round(1.0 * fps)]
    assert (card.max(axis=2) > 200).sum() > 100  # the card's light letters on its dark ground
    # the merged WebVTT: clip 1's cues from 3 s, clip 2's from 21 s
    assert files.subtitles is not None and files.subtitles.read_text(encoding="utf-8") == (
        "WEBVTT\n\n"
        "1\n00:00:03.000 --> 00:00:08.000\nОн вышел на мост.\n\n"
        "2\n00:00:13.000 --> 00:00:18.000\nНева &amp; &lt;небо&gt;\n\n"
        "3\n00:00:22.500 --> 00:00:25.000\nСоня читала.\n"
    )
    assert files.subtitled is not None and probe(files.subtitled)["frames"] == 36 * fps
    assert sum(webp_frame_durations(files.preview)) == 36_000  # ms (WebP merges frames that repeat)
    metadata = json.loads(files.metadata.read_text())
    assert metadata["output"]["duration_s"] == 36.0 and metadata["output"]["subtitles"] == 3
    assert metadata["reel"]["parts"][1]["render_id"] == "r2"


def test_a_reel_without_words_has_no_subtitles(tmp_path):
    spec = clip_spec()
    clip = solid_clip(tmp_path / "red.mp4", RED, spec)
    files = assemble_reel(reel_of("r1"), spec, [clip], [None], tmp_path / "reel.mp4")
    assert files.subtitles is None and set(files.paths()) == {"video", "poster", "preview", "metadata"}
    assert probe(files.video)["frames"] == 18 * spec.output_fps


def test_a_clip_of_another_size_is_scaled_to_the_reels(tmp_path):
    spec = clip_spec()
    bigger = solid_clip(tmp_path / "big.mp4", BLUE, clip_spec().model_copy(update={"width": 448, "height": 256}))
    files = assemble_reel(reel_of("r1"), spec, [bigger], [None], tmp_path / "reel.mp4")
    assert probe(files.video)["size"] == (WIDTH, HEIGHT)


def test_a_card_wraps_a_long_title_inside_the_frame():
    card = np.asarray(draw_card(["A very long book title that cannot fit on one line at all", "An Author"], 224, 128))
    lit_columns = np.flatnonzero((card.max(axis=2) > 200).any(axis=0))
    assert lit_columns.min() >= 224 * 0.05 - 1 and lit_columns.max() <= 224 * 0.95 + 1


def _finished_clip(adapters, colour, spec: RenderSpec, tmp_path: Path, words: str | None) -> Render:
    render = Render(user_id="reader-1", spec=spec)
    adapters.records.create_render(render)
    adapters.records.mark_running(render.id, 1, "runner")
    video = solid_clip(tmp_path / f"{render.id}.mp4", colour, spec)
    adapters.storage.put_file(f"renders/{render.id}/runner/clip.mp4", video, "video/mp4")
    artifacts = {"video": f"renders/{render.id}/runner/clip.mp4"}
    if words is not None:
        (tmp_path / f"{render.id}.vtt").write_text(words, encoding="utf-8")
        adapters.storage.put_file(f"renders/{render.id}/runner/clip.vtt", tmp_path / f"{render.id}.vtt", "text/vtt")
        artifacts["subtitles"] = f"renders/{render.id}/runner/clip.vtt"
    adapters.records.mark_succeeded(render.id, "runner", artifacts, {})
    return render


def _must_not_load(base, adapter):
    raise AssertionError("a reel loads no model")


def test_the_job_makes_a_queued_reel_from_the_stored_clips(adapters, tmp_path):
    spec = clip_spec()
    red = _finished_clip(adapters, RED, spec, tmp_path, webvtt([Cue(0.0, 2.0, "Он вышел")]))
    blue = _finished_clip(adapters, BLUE, spec, tmp_path, None)
    reel = reel_of(red.id, blue.id)
    reel_render = Render(
        user_id="reader-1", spec=spec.model_copy(update={"duration_s": 36.0, "frames": 288}), reel=reel
    )
    adapters.records.create_render(reel_render)
    assert run_render(reel_render.id, adapters, load_renderer=_must_not_load) == 0
    stored = adapters.records.get_render(reel_render.id)
    assert stored.state == "succeeded"
    assert set(stored.artifacts) == {"video", "poster", "preview", "metadata", "subtitles", "subtitled"}
    assert probe(adapters.storage.path_for(stored.artifacts["video"]))["duration_s"] == pytest.approx(36.0, abs=0.05)
    words = adapters.storage.read_bytes(stored.artifacts["subtitles"]).decode()
    assert words == "WEBVTT\n\n1\n00:00:03.000 --> 00:00:05.000\nОн вышел\n"


def test_a_reel_whose_clip_is_gone_fails_saying_so(adapters, tmp_path):
    spec = clip_spec()
    red = _finished_clip(adapters, RED, spec, tmp_path, None)
    reel_render = Render(user_id="reader-1", spec=spec, reel=reel_of(red.id, "deleted-render"))
    adapters.records.create_render(reel_render)
    last = adapters.settings.max_attempts
    assert run_render(reel_render.id, adapters, attempt=last, load_renderer=_must_not_load) == EXIT_RETRY
    stored = adapters.records.get_render(reel_render.id)
    assert (stored.state, stored.error) == ("failed", "the clip of part 2 is gone: ask for the reel again")
    assert stored.artifacts == {}
