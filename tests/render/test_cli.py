"""`python -m animate_job render`: as a subprocess end to end, and in-process for each failure."""

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from animate_job.cli import EXIT_BAD_INPUT, EXIT_NO_MODEL, EXIT_OUT_OF_MEMORY, main
from tests.conftest import EXAMPLE_STORYBOARD, ROOT
from tests.media import probe, top_level_boxes


@pytest.mark.slow
def test_renders_a_storyboard_into_a_playable_15_second_clip(tmp_path):
    out = tmp_path / "renders" / "neva.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "animate_job", "render", "--storyboard", str(EXAMPLE_STORYBOARD), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    info = probe(out)
    assert (info["codec"], info["pix_fmt"], info["fps"]) == ("h264", "yuv420p", 8)
    assert info["duration_s"] == pytest.approx(15.0, abs=1e-6) and info["frames"] == 120
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")
    with Image.open(tmp_path / "renders" / "neva.poster.jpg") as poster:
        assert poster.size == (64, 64)
    assert (tmp_path / "renders" / "neva.preview.webp").stat().st_size > 0
    metadata = json.loads((tmp_path / "renders" / "neva.metadata.json").read_text())
    assert metadata["output"]["frames_rendered"] == 120
    assert metadata["spec"]["storyboard"]["title"] == "Raskolnikov crosses the Neva at dusk"
    assert metadata["spec"]["seed"] == 1866 and metadata["model"]["built_in_demo"] is True
    assert {"torch", "diffusers", "transformers", "ffmpeg"} <= metadata["versions"].keys()
    assert metadata["timings"]["denoise_s"] > 0
    assert metadata["device"]["gpu_speedups"] is False  # never on a CPU
    # Peak memory by stage (MiB): the process's resident set at each stage's start and its most.
    assert list(metadata["memory_mib"]) == ["load", "denoise", "decode", "encode"]
    for stage, figures in metadata["memory_mib"].items():
        assert set(figures) == {"host_start", "host_peak"}, stage  # no CUDA figures on a CPU
        assert 0 < figures["host_start"] <= figures["host_peak"], stage
    # Only finished files under their final names: no partial files left behind.
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "neva.metadata.json",
        "neva.mp4",
        "neva.poster.jpg",
        "neva.preview.webp",
    ]


@pytest.mark.slow
def test_a_failing_process_prints_one_line_and_exits_non_zero(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "animate_job",
            "render",
            "--prompt",
            "a cat",
            "--model",
            "stable-diffusion-v1-5/stable-diffusion-v1-5",
            "--out",
            str(tmp_path / "a.mp4"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == EXIT_NO_MODEL
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_prompt_shortcut_with_preset_and_seed(tmp_path):
    out = tmp_path / "storm.mp4"
    code = main(
        [
            "render",
            "--prompt",
            "a lighthouse in a storm",
            "--preset",
            "draft",
            "--seed",
            "9",
            "--out",
            str(out),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    metadata = json.loads(out.with_name("storm.metadata.json").read_text())
    assert metadata["spec"]["preset"] == "draft" and metadata["spec"]["seed"] == 9
    assert metadata["spec"]["steps"] == 2
    assert metadata["spec"]["storyboard"]["shots"][0]["prompt"] == "a lighthouse in a storm"


def run_failing(capsys, *arguments) -> tuple[int, str]:
    code = main(["render", *arguments])
    error = capsys.readouterr().err.strip()
    assert "Traceback" not in error
    assert len(error.splitlines()) == 1, error
    return code, error


def test_missing_storyboard_file(tmp_path, capsys):
    code, error = run_failing(capsys, "--storyboard", str(tmp_path / "nope.json"), "--out", str(tmp_path / "a.mp4"))
    assert code == EXIT_BAD_INPUT and error == f"error: no storyboard file at {tmp_path / 'nope.json'}"


def test_storyboard_that_is_not_json(tmp_path, capsys):
    path = tmp_path / "scene.json"
    path.write_text('{"title": "x",\n "shots": [}')
    code, error = run_failing(capsys, "--storyboard", str(path), "--out", str(tmp_path / "a.mp4"))
    assert code == EXIT_BAD_INPUT and "is not valid JSON" in error and "line 2" in error


def test_invalid_storyboard_names_the_field(tmp_path, capsys, storyboard_data):
    storyboard_data["shots"][1]["start_s"] = 20
    path = tmp_path / "scene.json"
    path.write_text(json.dumps(storyboard_data))
    code, error = run_failing(capsys, "--storyboard", str(path), "--out", str(tmp_path / "a.mp4"))
    assert code == EXIT_BAD_INPUT
    assert error.startswith("error: invalid storyboard: shots.1.start_s: shot 2 starts at 20.0 s")
    assert not (tmp_path / "a.mp4").exists()


def test_size_not_a_multiple_of_eight(tmp_path, capsys):
    code, error = run_failing(capsys, "--prompt", "a cat", "--width", "100", "--out", str(tmp_path / "a.mp4"))
    assert code == EXIT_BAD_INPUT and error == "error: invalid render settings: width: this must be a multiple of 8"


def test_missing_model_directory(tmp_path, capsys):
    code, error = run_failing(
        capsys, "--prompt", "a cat", "--model", str(tmp_path / "sd15"), "--out", str(tmp_path / "a.mp4")
    )
    assert code == EXIT_NO_MODEL and f"no model directory at {tmp_path / 'sd15'}" in error


def test_hub_id_while_offline(tmp_path, capsys):
    code, error = run_failing(
        capsys,
        "--prompt",
        "a cat",
        "--model",
        "someone/sd15-not-cached",
        "--motion-adapter",
        "someone/adapter",
        "--out",
        str(tmp_path / "a.mp4"),
    )
    assert code == EXIT_NO_MODEL and "HF_HUB_OFFLINE=1" in error


def test_model_comes_from_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANIMBOOKS_MODEL", str(tmp_path / "from-env"))
    code, error = run_failing(capsys, "--prompt", "a cat", "--out", str(tmp_path / "a.mp4"))
    assert code == EXIT_NO_MODEL and "from-env" in error


def test_a_bad_preset_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["render", "--prompt", "a cat", "--preset", "ultra", "--out", str(tmp_path / "a.mp4")])
    assert caught.value.code == EXIT_BAD_INPUT
    assert "invalid choice: 'ultra'" in capsys.readouterr().err


def test_out_of_memory_exits_4_with_advice(tmp_path, capsys, monkeypatch):
    from animate_job.renderer import Renderer, RenderOutOfMemory

    def out_of_memory(self, spec, progress=None):
        raise RenderOutOfMemory("the CUDA ran out of memory rendering 512x512: try the draft preset")

    monkeypatch.setattr(Renderer, "render", out_of_memory)
    code, error = run_failing(capsys, "--prompt", "a cat", "--out", str(tmp_path / "a.mp4"))
    assert code == EXIT_OUT_OF_MEMORY and "try the draft preset" in error
    assert list(tmp_path.iterdir()) == []


def test_the_gpu_speedups_follow_the_setting_and_the_flag(monkeypatch):
    from animate_job.cli import _parser

    arguments = ["render", "--prompt", "a bridge", "--out", "clip.mp4"]
    assert _parser().parse_args(arguments).gpu_speedups is True
    assert _parser().parse_args([*arguments, "--no-gpu-speedups"]).gpu_speedups is False
    monkeypatch.setenv("ANIMBOOKS_GPU_SPEEDUPS", "false")
    assert _parser().parse_args(arguments).gpu_speedups is False
    assert _parser().parse_args([*arguments, "--gpu-speedups"]).gpu_speedups is True


@pytest.mark.slow
def test_the_aspect_chosen_on_the_command_line_shapes_the_clip_and_its_poster(tmp_path):
    out = tmp_path / "wide.mp4"
    code = main(
        ["render", "--prompt", "a lighthouse in a storm", "--aspect", "16:9", "--preset", "draft", "--out", str(out)]
    )
    assert code == 0
    assert probe(out)["size"] == (112, 64)  # the tiny model's 16:9 size
    with Image.open(tmp_path / "wide.poster.jpg") as poster:
        assert poster.size == (112, 64)
    with Image.open(tmp_path / "wide.preview.webp") as preview:
        assert preview.size == (112, 64)  # narrower than the preview's width limit: kept as it is
    metadata = json.loads((tmp_path / "wide.metadata.json").read_text())
    assert metadata["spec"]["storyboard"]["aspect"] == "16:9"


def test_an_unknown_aspect_on_the_command_line_is_bad_input(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["render", "--prompt", "a lighthouse", "--aspect", "4:3", "--out", str(tmp_path / "x.mp4")])
    assert exit_.value.code == 2
    assert "invalid choice: '4:3'" in capsys.readouterr().err


@pytest.mark.slow
def test_quoted_shots_give_a_webvtt_file_and_a_clip_with_the_words_burned_in(tmp_path):
    storyboard = json.loads(EXAMPLE_STORYBOARD.read_text())
    storyboard["shots"][0]["quote"] = "Он вышел на мост."
    storyboard["shots"][2]["quote"] = "Нева была тиха & темна…"
    source = tmp_path / "quoted.json"
    source.write_text(json.dumps(storyboard, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "quoted.mp4"
    assert main(["render", "--storyboard", str(source), "--preset", "draft", "--out", str(out)]) == 0
    assert (tmp_path / "quoted.vtt").read_text(encoding="utf-8") == (
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:05.000\nОн вышел на мост.\n\n"
        "2\n00:00:10.000 --> 00:00:15.000\nНева была тиха &amp; темна…\n"
    )
    plain, burned = probe(out), probe(tmp_path / "quoted.subtitled.mp4")
    assert burned["size"] == plain["size"] == (64, 64)
    assert burned["duration_s"] == pytest.approx(15.0) and burned["frames"] == plain["frames"] == 120
    assert json.loads((tmp_path / "quoted.metadata.json").read_text())["output"]["subtitles"] == 2


@pytest.mark.slow
def test_a_thirty_second_clip_from_the_command_line_with_the_tiny_model(tmp_path):
    """FreeNoise over 240 frames: the clip, its metadata and its last quote run to 30 s."""
    storyboard = json.loads(EXAMPLE_STORYBOARD.read_text())
    storyboard["shots"].append({"start_s": 25, "prompt": "the bridge at night", "quote": "Ночь."})
    source = tmp_path / "long.json"
    source.write_text(json.dumps(storyboard, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "long.mp4"
    code = main(["render", "--storyboard", str(source), "--clip-seconds", "30", "--preset", "draft", "--out", str(out)])
    assert code == 0
    info = probe(out)
    assert info["duration_s"] == pytest.approx(30.0, abs=1e-6) and info["frames"] == 240
    metadata = json.loads((tmp_path / "long.metadata.json").read_text())
    assert metadata["output"]["frames_rendered"] == 240
    assert (metadata["spec"]["duration_s"], metadata["spec"]["storyboard"]["clip_seconds"]) == (30, 30)
    assert (tmp_path / "long.vtt").read_text(encoding="utf-8").endswith("00:00:25.000 --> 00:00:30.000\nНочь.\n")


def test_a_shot_past_a_fifteen_second_clip_is_bad_input_until_the_clip_is_longer(tmp_path, capsys, storyboard_data):
    storyboard_data["shots"].append({"start_s": 20, "prompt": "the bridge at night"})
    source = tmp_path / "long.json"
    source.write_text(json.dumps(storyboard_data), encoding="utf-8")
    assert main(["render", "--storyboard", str(source), "--out", str(tmp_path / "x.mp4")]) == 2
    assert "the clip is 15 s long, so every shot must start by 14.0 s" in capsys.readouterr().err


def test_a_clip_length_no_plan_has_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["render", "--prompt", "a lighthouse", "--clip-seconds", "45", "--out", str(tmp_path / "x.mp4")])
    assert exit_.value.code == 2
    assert "invalid choice: 45 (choose from 15, 30, 60)" in capsys.readouterr().err
