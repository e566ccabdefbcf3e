import copy

import pytest
from pydantic import ValidationError

from infra.domain.presets import PRESETS, TINY_MODEL_SIZE
from infra.domain.prompt_tokens import EstimatedTokenCounter
from infra.domain.storyboard import (
    TRANSITION_FRAMES,
    RenderSpec,
    Storyboard,
    describe,
    field_errors,
    frame_prompts,
    one_shot_storyboard,
    resolve_spec,
)


def errors_for(data: dict, **context) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Storyboard.model_validate(data, context=context or None)
    return {error.field: error.message for error in field_errors(caught.value)}


def with_shots(data: dict, *shots: dict) -> dict:
    data = copy.deepcopy(data)
    data["shots"] = list(shots)
    return data


def test_the_example_storyboard_is_valid(storyboard_data):
    storyboard = Storyboard.model_validate(storyboard_data)
    assert [shot.start_s for shot in storyboard.shots] == [0, 5, 10]
    assert storyboard.seed == 1866


def test_first_shot_must_start_at_zero(storyboard_data):
    data = with_shots(storyboard_data, {"start_s": 2, "prompt": "a bridge"})
    assert errors_for(data) == {"shots.0.start_s": "the first shot must start at 0 s, it starts at 2.0 s"}


def test_shots_must_start_in_order_at_least_a_second_apart(storyboard_data):
    data = with_shots(
        storyboard_data,
        {"start_s": 0, "prompt": "a bridge"},
        {"start_s": 6, "prompt": "a river"},
        {"start_s": 6.5, "prompt": "a dome"},
    )
    message = errors_for(data)["shots.2.start_s"]
    assert "shot 3 starts at 6.5 s" in message and "at least 1.0 s after" in message


def test_a_shot_going_back_in_time_is_rejected(storyboard_data):
    data = with_shots(
        storyboard_data, {"start_s": 0, "prompt": "a"}, {"start_s": 8, "prompt": "b"}, {"start_s": 3, "prompt": "c"}
    )
    assert "shots.2.start_s" in errors_for(data)


def test_last_shot_must_leave_time_before_the_end(storyboard_data):
    data = with_shots(storyboard_data, {"start_s": 0, "prompt": "a"}, {"start_s": 14.5, "prompt": "b"})
    assert "every shot must start by 14.0 s" in errors_for(data)["shots.1.start_s"]


def test_negative_start_time_is_rejected(storyboard_data):
    data = with_shots(storyboard_data, {"start_s": -1, "prompt": "a"})
    assert errors_for(data)["shots.0.start_s"] == "this must be at least 0.0"


@pytest.mark.parametrize(
    "count, message",
    [
        (0, "this needs at least 1 item"),
        (9, "a 15-second clip takes at most 8 shots; remove some or choose a longer clip"),
    ],  # one shot, eight shots
)
def test_between_one_and_eight_shots(storyboard_data, count, message):
    shots = [{"start_s": float(i), "prompt": f"shot {i}"} for i in range(count)]
    assert errors_for(with_shots(storyboard_data, *shots)) == {"shots": message}


def test_a_storyboard_that_is_not_an_object_is_named_as_the_storyboard():
    assert errors_for([1]) == {"storyboard": "this must be an object of names and values"}  # type: ignore[arg-type]


def test_an_optional_text_emptied_by_trimming_is_empty_and_one_past_its_limit_too_long():
    from frontend_service.gallery_flow import PublishRequest  # a Text | None with a minimum and a maximum

    def said(display_name: str) -> list[tuple[str, str]]:
        with pytest.raises(ValidationError) as caught:
            PublishRequest.model_validate({"display_name": display_name})
        return [(e.field, e.message) for e in field_errors(caught.value)]

    assert said("   ") == [("display_name", "this must not be empty")]
    assert said("x" * 41) == [("display_name", "this is too long: at most 40 characters")]
    assert PublishRequest.model_validate({"display_name": "x" * 40}).display_name == "x" * 40


def test_a_problem_without_plain_words_keeps_its_own_message(storyboard_data):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data)).model_dump()
    with pytest.raises(ValidationError) as caught:
        RenderSpec.model_validate(spec | {"frames": 100})
    assert [(e.field, e.message) for e in field_errors(caught.value)] == [
        ("storyboard", "frames must be duration_s x fps_render (120), not 100")
    ]


@pytest.mark.parametrize("prompt", ["", "   "])
def test_empty_prompt_is_rejected(storyboard_data, prompt):
    data = with_shots(storyboard_data, {"start_s": 0, "prompt": prompt})
    assert errors_for(data) == {"shots.0.prompt": "this must not be empty"}


def test_prompt_over_77_tokens_names_the_shot_and_the_method(storyboard_data):
    long_prompt = " ".join(["lantern"] * 40)
    data = with_shots(storyboard_data, {"start_s": 0, "prompt": "a bridge"}, {"start_s": 5, "prompt": long_prompt})
    message = errors_for(data)["shots.1.prompt"]
    assert "shot 2's prompt" in message and "(estimated)" in message and "at most 77" in message


def test_style_counts_towards_every_prompt(storyboard_data):
    prompt = " ".join(["cat"] * 40)  # fits alone, not with a long style
    assert Storyboard.model_validate(with_shots(storyboard_data, {"start_s": 0, "prompt": prompt}))
    data = with_shots(storyboard_data, {"start_s": 0, "prompt": prompt})
    data["style"] = " ".join(["dog"] * 40)
    assert "shots.0.prompt" in errors_for(data)


def test_a_real_tokenizer_counts_instead_of_the_estimate(storyboard_data):
    class CountsWords:
        method = "counted"

        def __call__(self, text):
            return len(text.split()) + 2

    prompt = " ".join(["extraordinarily"] * 30)  # 30 words, estimated at 4 tokens each
    data = with_shots(storyboard_data, {"start_s": 0, "prompt": prompt})
    data["style"] = ""
    assert "(estimated)" in errors_for(data)["shots.0.prompt"]
    assert Storyboard.model_validate(data, context={"token_counter": CountsWords()})


def test_negative_prompt_must_fit_too(storyboard_data):
    data = copy.deepcopy(storyboard_data)
    data["negative_prompt"] = ", ".join(["blurry"] * 60)
    assert "negative prompt" in errors_for(data)["negative_prompt"]


def test_control_characters_are_rejected(storyboard_data):
    data = copy.deepcopy(storyboard_data)
    data["title"] = "a title\x00with a null"
    assert errors_for(data) == {"title": "remove the control characters from this text"}


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("a title\x00with a null", "REMOVE THE CONTROL CHARACTERS FROM THIS TEXT"),
        ("\u200b \u3164", "WRITE SOMETHING VISIBLE: THIS HAS ONLY SPACES OR INVISIBLE CHARACTERS"),
    ],
)
def test_text_problems_are_put_in_the_persons_language(storyboard_data, title, message):
    # The site's catalogue finds a message by its kind: a kind it does not know stays English.
    with pytest.raises(ValidationError) as raised:
        Storyboard.model_validate(storyboard_data | {"title": title})
    [problem] = field_errors(raised.value, translate=str.upper)
    assert (problem.field, problem.message) == ("title", message)


def test_the_estimate_counts_symbols_one_each_and_other_scripts_by_their_bytes():
    estimate = EstimatedTokenCounter()
    assert estimate("...") == 5  # 2 + one for each of the three dots
    assert estimate("straße") == 9  # 2 + 7 UTF-8 bytes (ß takes two)


def test_unknown_fields_and_wrong_types_are_named(storyboard_data):
    data = copy.deepcopy(storyboard_data)
    data["colour"] = "red"
    data["seed"] = "lucky"
    errors = errors_for(data)
    assert errors["colour"] == "there is no such field here; remove it"
    assert errors["seed"] == "this must be a whole number, written as digits without quotes"


@pytest.mark.parametrize("seed, message", [(-1, "this must be at least 0"), (2**32, "this must be at most 4294967295")])
def test_seed_must_fit_in_32_bits(storyboard_data, seed, message):
    storyboard_data["seed"] = seed
    assert errors_for(storyboard_data) == {"seed": message}


def test_camera_note_has_a_length_limit(storyboard_data):
    storyboard_data["shots"][0]["camera"] = "slow pan " * 30
    assert errors_for(storyboard_data) == {"shots.0.camera": "this is too long: at most 200 characters"}


def test_missing_title_is_required(storyboard_data):
    del storyboard_data["title"]
    assert errors_for(storyboard_data) == {"title": "this field is required"}


def test_describe_puts_every_problem_on_one_line(storyboard_data):
    storyboard_data["title"] = ""
    storyboard_data["shots"][0]["start_s"] = 1
    with pytest.raises(ValidationError) as caught:
        Storyboard.model_validate(storyboard_data)
    line = describe(caught.value)
    assert "\n" not in line
    assert line.startswith("title: this must not be empty; shots.0.start_s:")


def test_estimate_grows_with_text_and_counts_start_and_end():
    estimate = EstimatedTokenCounter()
    assert estimate("") == 2
    assert estimate("a cat") == 4
    assert estimate("a cat on a bridge") < estimate("a cat on a bridge at dusk, oil painting")
    assert estimate("Раскольников") == len("Раскольников".encode()) + 2


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_resolve_into_specs(storyboard_data, name):
    storyboard = Storyboard.model_validate(storyboard_data)
    spec = resolve_spec(storyboard, name, base_model="/models/sd15-animatediff")
    preset = PRESETS[name]
    assert (spec.width, spec.height, spec.steps, spec.guidance) == (
        *preset.sizes["1:1"],
        preset.steps,
        preset.guidance,
    )
    assert spec.frames == 120 and spec.duration_s == 15.0 and spec.fps_render == 8
    assert spec.output_fps == preset.output_fps
    assert spec.seed == storyboard.seed


@pytest.mark.parametrize(("length", "frames"), [(15, 120), (30, 240), (60, 480)])
def test_a_spec_s_frames_follow_the_clip_length(storyboard_data, length, frames):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data | {"clip_seconds": length}), "draft")
    assert (spec.duration_s, spec.frames, spec.fps_render) == (length, frames, 8)


def test_standard_is_the_default_preset_and_tiny_renders_at_its_own_size(storyboard_data):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data))
    assert spec.preset == "standard"
    assert (spec.width, spec.height) == TINY_MODEL_SIZE
    real = resolve_spec(Storyboard.model_validate(storyboard_data), base_model="/models/x")
    assert (real.width, real.height) == (512, 512)


@pytest.mark.parametrize(
    ("preset", "aspect", "size"),
    [
        ("standard", "16:9", (704, 384)),
        ("standard", "9:16", (384, 704)),
        ("standard", "1:1", (512, 512)),
        ("high", "16:9", (704, 384)),
        ("draft", "16:9", (448, 256)),
        ("draft", "9:16", (256, 448)),
        ("draft", "1:1", (384, 384)),
    ],
)
def test_each_aspect_renders_at_its_size(storyboard_data, preset, aspect, size):
    storyboard = Storyboard.model_validate(storyboard_data | {"aspect": aspect})
    spec = resolve_spec(storyboard, preset, base_model="/models/x")
    assert (spec.width, spec.height) == size
    assert spec.storyboard.aspect == aspect


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_size_suits_stable_diffusion_1_5(preset):
    for width, height in PRESETS[preset].sizes.values():
        assert width % 64 == 0 and height % 64 == 0
    standard = PRESETS["standard"].sizes
    for width, height in standard.values():  # about 512² pixels: 0.9 to 1.1 of it
        assert 0.9 * 512 * 512 <= width * height <= 1.1 * 512 * 512


def test_the_tiny_model_keeps_the_aspect_at_its_own_size(storyboard_data):
    wide = resolve_spec(Storyboard.model_validate(storyboard_data | {"aspect": "16:9"}))
    upright = resolve_spec(Storyboard.model_validate(storyboard_data | {"aspect": "9:16"}))
    assert (wide.width, wide.height) == (112, 64) and (upright.width, upright.height) == (64, 112)


def test_a_storyboard_without_an_aspect_is_square(storyboard_data):
    assert Storyboard.model_validate(storyboard_data).aspect == "1:1"


@pytest.mark.parametrize("aspect", ["4:3", "16/9", "", 1.78, None])
def test_an_unknown_aspect_is_refused_in_plain_words(storyboard_data, aspect):
    with pytest.raises(ValidationError) as error:
        Storyboard.model_validate(storyboard_data | {"aspect": aspect})
    assert [(e.field, e.message) for e in field_errors(error.value)] == [
        ("aspect", "this must be one of: '16:9', '9:16' or '1:1'")
    ]


def test_an_asked_size_and_seed_win(storyboard_data):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data), seed=7, width=96, height=128)
    assert (spec.width, spec.height, spec.seed) == (96, 128, 7)


def test_unknown_preset_says_which_exist(storyboard_data):
    with pytest.raises(ValueError, match="preset must be one of draft, standard, high, not 'ultra'"):
        resolve_spec(Storyboard.model_validate(storyboard_data), "ultra")


def test_sizes_must_be_multiples_of_eight(storyboard_data):
    with pytest.raises(ValidationError, match="multiple_of"):
        resolve_spec(Storyboard.model_validate(storyboard_data), width=100)


def test_spec_is_frozen_and_its_frames_follow_the_duration(storyboard_data):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data))
    with pytest.raises(ValidationError):
        spec.steps = 50  # type: ignore[misc]  # mypy knows it is frozen; the test proves it
    data = spec.model_dump()
    data["frames"] = 100
    with pytest.raises(ValidationError, match="frames must be duration_s x fps_render"):
        RenderSpec.model_validate(data)


def test_spec_round_trips_through_json_with_the_same_fingerprint(storyboard_data):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data))
    again = RenderSpec.model_validate_json(spec.model_dump_json())
    assert again == spec and again.fingerprint() == spec.fingerprint()
    assert resolve_spec(spec.storyboard, seed=1).fingerprint() != spec.fingerprint()


def test_the_fingerprint_is_the_sha256_of_the_spec_as_sorted_compact_json():
    spec = resolve_spec(Storyboard.model_validate({"title": "t", "shots": [{"start_s": 0, "prompt": "p"}]}))
    # The spec's JSON, keys sorted, no spaces; its sha256 from coreutils, not from the code:
    #   printf '%s' '<the JSON below>' | sha256sum | cut -c1-16
    canonical = (
        '{"base_model":"tiny","context_length":16,"context_stride":4,"decode_chunk_size":16,"duration_s":15.0,'
        '"fps_render":8,"frames":120,"guidance":1.0,"height":64,"motion_adapter":null,"output_fps":8,'
        '"preset":"standard","scheduler":{"name":"EulerDiscreteScheduler","options":{"beta_schedule":"linear",'
        '"timestep_spacing":"trailing"}},"seed":0,"steps":4,"storyboard":{"aspect":"1:1","author":null,'
        '"book":null,"clip_seconds":15,'
        '"negative_prompt":"blurry, low quality, deformed, watermark, text, jpeg artifacts",'
        '"seed":0,"shots":[{"camera":null,"prompt":"p","quote":null,"start_s":0.0}],"style":"","title":"t"},'
        '"width":64}'
    )
    assert RenderSpec.model_validate_json(canonical) == spec
    assert spec.fingerprint() == "38ce084ce7327608"


def test_shots_become_held_keyframes_with_short_transitions(storyboard_data):
    spec = resolve_spec(Storyboard.model_validate(storyboard_data))
    keyframes = frame_prompts(spec)
    style = storyboard_data["style"]
    first, second, third = storyboard_data["shots"]
    assert sorted(keyframes) == [0, 40 - TRANSITION_FRAMES, 40, 80 - TRANSITION_FRAMES, 80]
    assert keyframes[0] == keyframes[36] == f"{first['prompt']}, {first['camera']}, {style}"
    assert keyframes[40] == f"{second['prompt']}, {second['camera']}, {style}"
    assert keyframes[80].startswith(third["prompt"])
    assert max(keyframes) < spec.frames


def test_one_shot_storyboard_from_a_prompt():
    storyboard = one_shot_storyboard("a lighthouse in a storm at night with huge waves", style="ink", seed=3)
    assert storyboard.title == "a lighthouse in a storm at night with…"
    assert [(s.start_s, s.prompt) for s in storyboard.shots] == [
        (0, "a lighthouse in a storm at night with huge waves")
    ]
    assert (storyboard.style, storyboard.seed) == ("ink", 3)


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("one two three four five six seven eight", "one two three four five six seven eight"),  # 8 words: all
        ("one two three four five six seven eight nine", "one two three four five six seven eight…"),  # 9: cut
        ("  a   lighthouse ", "a lighthouse"),  # the title's words one space apart; the prompt as written, trimmed
    ],
)
def test_a_one_shot_storyboard_is_titled_by_its_first_eight_words(prompt, title):
    storyboard = one_shot_storyboard(prompt)
    assert (storyboard.title, storyboard.style, storyboard.seed) == (title, "", 0)
    assert [(s.start_s, s.prompt) for s in storyboard.shots] == [(0, prompt.strip())]


# ByteDance/AnimateDiff-Lightning's files, as the model's page lists them.
LIGHTNING = {steps: f"animatediff_lightning_{steps}step_diffusers.safetensors" for steps in (1, 2, 4, 8)}


@pytest.mark.parametrize(("preset", "steps"), [("draft", 2), ("standard", 4), ("high", 8)])
def test_each_preset_renders_with_the_lightning_file_distilled_for_its_steps(storyboard_data, preset, steps):
    assert PRESETS[preset].steps == steps and PRESETS[preset].lightning_file == LIGHTNING[steps]
    storyboard = Storyboard.model_validate(storyboard_data)
    folder = "/data/weights/AnimateDiff-Lightning"
    spec = resolve_spec(storyboard, preset, base_model="/models/sd15", motion_adapter=f"{folder}/{LIGHTNING[4]}")
    assert spec.motion_adapter == f"{folder}/{LIGHTNING[steps]}" and spec.steps == steps
    hub = resolve_spec(
        storyboard, preset, base_model="/models/sd15", motion_adapter=f"ByteDance/AnimateDiff-Lightning/{LIGHTNING[1]}"
    )
    assert hub.motion_adapter == f"ByteDance/AnimateDiff-Lightning/{LIGHTNING[steps]}"


@pytest.mark.parametrize("adapter", [None, "/models/animatediff-v1-5-3", "guoyww/animatediff-motion-adapter-v1-5-3"])
def test_an_adapter_that_is_not_lightning_is_used_as_it_is(storyboard_data, adapter):
    spec = resolve_spec(
        Storyboard.model_validate(storyboard_data), "high", base_model="/models/x", motion_adapter=adapter
    )
    assert spec.motion_adapter == adapter
