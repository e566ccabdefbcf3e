"""The contract every part agrees on: the storyboard and the render spec.

A storyboard is what a person edits: shots over a clip of 15, 30 or 60 seconds. A render spec is
the storyboard frozen together with every setting the renderer needs, so a clip can
be made again from its spec alone. Invalid input raises pydantic's ValidationError;
`field_errors` turns it into one plain sentence per field for people.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from infra.domain.presets import (
    CLIP_LENGTHS,
    DEFAULT_ASPECT,
    DEFAULT_CLIP_SECONDS,
    DEFAULT_PRESET,
    PRESETS,
    RENDER_FPS,
    TINY_MODEL,
    TINY_MODEL_SIZES,
    Aspect,
    ClipSeconds,
    PresetName,
    Scheduler,
    lightning_adapter_for,
)
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter, TokenCounter
from infra.domain.text import CONTROL_CHARACTERS, N_, NO_VISIBLE_TEXT, Nn_, Text, VisibleText

#: Shots per 15 seconds of clip: 8 in a 15-second clip, 16 in 30 s, 32 in 60 s.
SHOTS_PER_15_SECONDS = 8
MAX_SHOTS = SHOTS_PER_15_SECONDS
#: The most shots of any clip (a 60-second one).
MOST_SHOTS = SHOTS_PER_15_SECONDS * max(CLIP_LENGTHS) // DEFAULT_CLIP_SECONDS
MAX_TITLE_CHARS = 120
# A shot's shortest length, whatever the clip's: it is the blend into the next shot
# (TRANSITION_FRAMES) and a moment held, which a longer clip does not change.
MIN_SHOT_SECONDS = 1.0
# Frames over which one shot's prompt blends into the next one's (half a second).
TRANSITION_FRAMES = 4
MAX_SEED = 2**32 - 1
#: A shot's words on screen: two subtitle lines at most, as subtitling guides keep them.
MAX_QUOTE_CHARS = 100


class Shot(BaseModel):
    """One shot of the clip: from `start_s` until the next shot starts (or the end)."""

    model_config = ConfigDict(extra="forbid")

    # Strict: "5" or true is a mistake to point out, not a number to guess.
    start_s: float = Field(strict=True, ge=0, description="when the shot starts, in seconds from the clip's start")
    prompt: VisibleText = Field(min_length=1, max_length=1000, description="what the shot shows, in English")
    camera: Text | None = Field(default=None, max_length=200, description="camera note, e.g. 'slow push in'")
    quote: Text | None = Field(
        default=None,
        max_length=MAX_QUOTE_CHARS,
        description="the book's words shown on screen during the shot (a subtitle); none when empty",
    )

    @field_validator("quote")
    @classmethod
    def _empty_quote_is_none(cls, value: str | None) -> str | None:
        return value or None  # an emptied line is dropped; the text is kept as written (verbatim)


class Storyboard(BaseModel):
    """A clip as a person edits it. Validate with a real tokenizer where one is at hand:

        Storyboard.model_validate(data, context={"token_counter": TokenizerCounter(tok)})

    Without one, prompt lengths are estimated (see infra.domain.prompt_tokens).
    """

    model_config = ConfigDict(extra="forbid")

    title: VisibleText = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    book: Text | None = Field(default=None, max_length=200)
    author: Text | None = Field(default=None, max_length=200)
    # style and negative_prompt come before shots: the shots' check reads them.
    style: Text = Field(default="", max_length=300, description="art style added to every shot's prompt")
    negative_prompt: Text = Field(
        default="blurry, low quality, deformed, watermark, text, jpeg artifacts", max_length=1000
    )
    seed: int = Field(default=0, strict=True, ge=0, le=MAX_SEED)
    aspect: Aspect = Field(default=DEFAULT_ASPECT, description="the frame's shape: 16:9, 9:16 or 1:1")
    # Before shots: the shots' check reads it.
    clip_seconds: ClipSeconds = Field(
        default=DEFAULT_CLIP_SECONDS,
        description="the clip's length in seconds: 15, or 30 and 60 on a plan that allows them",
    )
    shots: list[Shot] = Field(min_length=1, max_length=MOST_SHOTS)

    @field_validator("clip_seconds")
    @classmethod
    def _clip_length_in_the_plan(cls, value: int, info: ValidationInfo) -> int:
        allowed = (info.context or {}).get("clip_lengths")
        if allowed is not None and value not in allowed:
            raise PydanticCustomError(
                "clip_length_not_in_plan",
                _CUSTOM_TEMPLATES["clip_length_not_in_plan"],
                {"length": value, "allowed": ", ".join(str(length) for length in allowed), "field": "clip_seconds"},
            )
        return value

    @field_validator("negative_prompt")
    @classmethod
    def _negative_prompt_fits(cls, value: str, info: ValidationInfo) -> str:
        counter = token_counter(info)
        tokens = counter(value)
        if tokens > MAX_PROMPT_TOKENS:
            raise too_many_tokens("negative_prompt_too_long", tokens, counter)
        return value

    @field_validator("shots")
    @classmethod
    def _shots_cover_the_clip(cls, shots: list[Shot], info: ValidationInfo) -> list[Shot]:
        if shots[0].start_s != 0:
            raise PydanticCustomError(
                "first_shot_not_at_zero",
                _CUSTOM_TEMPLATES["first_shot_not_at_zero"],
                {"start": shots[0].start_s, "field": "shots.0.start_s"},
            )
        # An invalid length fails on its own field; the shots are checked against the standard one.
        length = info.data.get("clip_seconds", DEFAULT_CLIP_SECONDS)
        most = max_shots(length)
        if len(shots) > most:
            raise PydanticCustomError(
                "too_many_shots",
                _COUNTED_MESSAGES["too_many_shots"][0][1],
                {"max_length": most, "length": length, "field": "shots"},
            )
        latest = length - MIN_SHOT_SECONDS
        for index, shot in enumerate(shots):
            if shot.start_s > latest:
                raise PydanticCustomError(
                    "shot_after_clip_end",
                    _CUSTOM_TEMPLATES["shot_after_clip_end"],
                    {
                        "number": index + 1,
                        "start": shot.start_s,
                        "length": length,
                        "latest": latest,
                        "field": f"shots.{index}.start_s",
                    },
                )
        for number, (before, shot) in enumerate(itertools.pairwise(shots), start=2):
            if shot.start_s < before.start_s + MIN_SHOT_SECONDS:
                raise PydanticCustomError(
                    "shots_out_of_order",
                    _CUSTOM_TEMPLATES["shots_out_of_order"],
                    {
                        "number": number,
                        "start": shot.start_s,
                        "gap": MIN_SHOT_SECONDS,
                        "before_number": number - 1,
                        "before_start": before.start_s,
                        "field": f"shots.{number - 1}.start_s",
                    },
                )
        style = info.data.get("style", "")
        counter = token_counter(info)
        for index, shot in enumerate(shots):
            tokens = counter(compose_prompt(shot, style))
            if tokens > MAX_PROMPT_TOKENS:
                raise too_many_tokens(
                    "shot_prompt_too_long", tokens, counter, number=index + 1, field=f"shots.{index}.prompt"
                )
        return shots


class RenderSpec(BaseModel):
    """Everything a render needs, frozen when the render is queued and stored with the clip."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    storyboard: Storyboard
    preset: PresetName
    width: int = Field(ge=64, le=1024, multiple_of=8)
    height: int = Field(ge=64, le=1024, multiple_of=8)
    # The storyboard's clip length (resolve_spec), or a book's reel's whole length.
    duration_s: float = Field(gt=0, description="the clip's length: the storyboard's, or a reel's")
    fps_render: int = RENDER_FPS
    frames: int
    output_fps: int = Field(ge=1, le=60)
    steps: int = Field(ge=1, le=100)
    guidance: float = Field(ge=0, le=30)
    scheduler: Scheduler
    context_length: int = 16
    context_stride: int = Field(ge=1, le=16)
    decode_chunk_size: int = Field(ge=1, le=128)
    base_model: str = Field(min_length=1)
    motion_adapter: str | None = None
    seed: int = Field(ge=0, le=MAX_SEED)

    @model_validator(mode="after")
    def _frames_match_duration(self) -> RenderSpec:
        if self.frames != round(self.duration_s * self.fps_render):
            raise PydanticCustomError(
                "frames_mismatch",
                "frames must be duration_s x fps_render ({expected}), not {frames}",
                {"expected": round(self.duration_s * self.fps_render), "frames": self.frames},
            )
        if self.output_fps % self.fps_render:
            raise PydanticCustomError(
                "output_fps", "output_fps must be a multiple of fps_render ({fps})", {"fps": self.fps_render}
            )
        return self

    def fingerprint(self) -> str:
        """A short stable hash: the same spec always makes the same clip."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def resolve_spec(
    storyboard: Storyboard,
    preset: str = DEFAULT_PRESET,
    *,
    base_model: str = TINY_MODEL,
    motion_adapter: str | None = None,
    seed: int | None = None,
    width: int | None = None,
    height: int | None = None,
) -> RenderSpec:
    """Freezes a storyboard with a preset's settings into a render spec, at the preset's
    size for the storyboard's aspect unless a size is asked for, with the Lightning file
    distilled for the preset's steps where the motion adapter is AnimateDiff-Lightning."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not '{preset}'")
    chosen = PRESETS[preset]
    sizes = TINY_MODEL_SIZES if base_model == TINY_MODEL else chosen.sizes
    default_size = sizes[storyboard.aspect]
    return RenderSpec(
        storyboard=storyboard,
        preset=preset,
        width=width or default_size[0],
        height=height or default_size[1],
        duration_s=storyboard.clip_seconds,
        frames=storyboard.clip_seconds * RENDER_FPS,
        output_fps=chosen.output_fps,
        steps=chosen.steps,
        guidance=chosen.guidance,
        scheduler=chosen.scheduler,
        context_stride=chosen.context_stride,
        decode_chunk_size=chosen.decode_chunk_size,
        base_model=base_model,
        motion_adapter=lightning_adapter_for(motion_adapter, chosen),
        seed=storyboard.seed if seed is None else seed,
    )


def max_shots(clip_seconds: int) -> int:
    """The most shots a clip of this length takes: SHOTS_PER_15_SECONDS for every 15 s."""
    return SHOTS_PER_15_SECONDS * clip_seconds // DEFAULT_CLIP_SECONDS


def compose_prompt(shot: Shot, style: str) -> str:
    """The text the encoder reads for a shot: what it shows, the camera, the style."""
    return ", ".join(part for part in (shot.prompt, shot.camera, style) if part)


def frame_prompts(spec: RenderSpec) -> dict[int, str]:
    """The storyboard as FreeNoise's `{frame_index: prompt}` keyframes.

    FreeNoise blends prompt embeddings linearly between keyframes, so each shot's
    prompt is held until just before the next shot, then blends over
    TRANSITION_FRAMES frames; a shot never starts halfway into the previous one.
    """
    style = spec.storyboard.style
    keyframes: dict[int, str] = {}
    shots = spec.storyboard.shots
    for index, shot in enumerate(shots):
        prompt = compose_prompt(shot, style)
        first = round(shot.start_s * spec.fps_render)
        keyframes[first] = prompt
        if index + 1 < len(shots):
            next_first = round(shots[index + 1].start_s * spec.fps_render)
            hold_until = next_first - TRANSITION_FRAMES
            if hold_until > first:
                keyframes[hold_until] = prompt
    return keyframes


def one_shot_storyboard(prompt: str, *, style: str = "", seed: int = 0) -> Storyboard:
    """A storyboard of a single shot, for `render --prompt`."""
    words = prompt.split()
    title = " ".join(words[:8]) + ("…" if len(words) > 8 else "")
    # A prompt of no words is refused as the shot's prompt before a title is needed.
    return Storyboard(title=title, style=style, seed=seed, shots=[Shot(start_s=0, prompt=prompt)])


# pydantic's own wording, said the way a person editing a storyboard would say it.
_PLAIN_MESSAGES = {
    "missing": N_("this field is required"),
    "extra_forbidden": N_("there is no such field here; remove it"),  # a storyboard's, a book's, a plan's...
    "string_too_short": N_("this must not be empty"),
    "greater_than_equal": N_("this must be at least {ge}"),
    "less_than_equal": N_("this must be at most {le}"),
    "multiple_of": N_("this must be a multiple of {multiple_of}"),
    "int_type": N_("this must be a whole number, written as digits without quotes"),
    "float_type": N_("this must be a number, written as digits without quotes"),
    "int_parsing": N_("this must be a whole number, written as digits"),
    "float_parsing": N_("this must be a number, written as digits"),
    "string_type": N_("this must be text"),
    "literal_error": N_("this must be one of: {expected}"),
    "bool_type": N_("this must be true or false"),
    "bool_parsing": N_("this must be true or false"),
    "dict_type": N_("this must be an object of names and values"),
    "model_type": N_("this must be an object of names and values"),
    "list_type": N_("this must be a list"),
    "json_invalid": N_("this is not valid JSON"),
}


# Messages whose words follow a count (the context value named): one form per plural form.
_COUNTED_MESSAGES = {
    "string_too_long": (
        Nn_("this is too long: at most {max_length} character", "this is too long: at most {max_length} characters"),
        "max_length",
    ),
    "too_short": (
        Nn_("this needs at least {min_length} item", "this needs at least {min_length} items"),
        "min_length",
    ),
    "too_long": (
        Nn_(
            "this allows at most {max_length} item; remove some", "this allows at most {max_length} items; remove some"
        ),
        "max_length",
    ),
    "too_many_shots": (
        Nn_(
            "a {length}-second clip takes at most {max_length} shot; remove some or choose a longer clip",
            "a {length}-second clip takes at most {max_length} shots; remove some or choose a longer clip",
        ),
        "max_length",
    ),
    # Counted by tokens: Russian says 41 токен, 42 токена, 45 токенов (`too_many_tokens` raises these).
    "negative_prompt_too_long": (
        Nn_(
            "the negative prompt is {tokens} token ({method}); the text encoder reads at most {limit}, so shorten it",
            "the negative prompt is {tokens} tokens ({method}); the text encoder reads at most {limit}, so shorten it",
        ),
        "tokens",
    ),
    "book_look_too_long": (
        Nn_(
            "the style and the period together take {tokens} token ({method}); every shot's prompt carries them "
            "and the text encoder reads at most {limit}, so keep them to {budget} to leave room for what each shot "
            "shows",
            "the style and the period together take {tokens} tokens ({method}); every shot's prompt carries them "
            "and the text encoder reads at most {limit}, so keep them to {budget} to leave room for what each shot "
            "shows",
        ),
        "tokens",
    ),
    "shot_prompt_too_long": (
        Nn_(
            "shot {number}'s prompt, with its camera note and the style, is {tokens} token ({method}); "
            "the text encoder reads at most {limit}, so shorten it",
            "shot {number}'s prompt, with its camera note and the style, is {tokens} tokens ({method}); "
            "the text encoder reads at most {limit}, so shorten it",
        ),
        "tokens",
    ),
}
#: How a count of tokens was made (TokenCounter.method), worded in the person's language.
TOKEN_METHODS = {"estimated": N_("estimated"), "counted": N_("counted")}


class FieldError(BaseModel):
    field: str
    message: str


def _english_plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def field_errors(
    error: ValidationError,
    translate: Callable[[str], str] = str,
    translate_plural: Callable[[str, str, int], str] = _english_plural,
) -> list[FieldError]:
    """One plain sentence per invalid field, the field as a dotted path (shots.1.prompt).
    `translate` and `translate_plural` put a message template in the person's language
    (the site's catalogue: gettext and ngettext)."""
    result = []
    for item in error.errors():
        context: dict[str, Any] = item.get("ctx") or {}
        field = context.get("field") or ".".join(str(part) for part in item["loc"]) or "storyboard"
        kind = item["type"]
        if kind in ("too_long", "too_short") and isinstance(item.get("input"), str):
            kind = f"string_{kind}"  # constraints applied after a validator lose their string wording
        if "method" in context:
            context = context | {"method": translate(TOKEN_METHODS.get(context["method"], context["method"]))}
        if kind in _COUNTED_MESSAGES:
            (singular, plural), counted = _COUNTED_MESSAGES[kind]
            message = translate_plural(singular, plural, int(context[counted])).format(**context)
        elif template := _PLAIN_MESSAGES.get(kind) or _CUSTOM_TEMPLATES.get(kind):
            message = translate(template).format(**context)
        else:
            message = item["msg"]
        result.append(FieldError(field=field, message=message))
    return result


def describe(error: ValidationError) -> str:
    """All of a validation error's problems on one line, for a terminal or a log."""
    return "; ".join(f"{e.field}: {e.message}" for e in field_errors(error))


def token_counter(info: ValidationInfo) -> TokenCounter:
    """The counter a validation was given (the renderer's real tokenizer), else the estimate."""
    context = info.context or {}
    return context.get("token_counter") or EstimatedTokenCounter()


_CUSTOM_TEMPLATES = {
    "first_shot_not_at_zero": N_("the first shot must start at 0 s, it starts at {start} s"),
    "shot_after_clip_end": N_(
        "shot {number} starts at {start} s: the clip is {length} s long, so every shot must start by {latest} s"
    ),
    "shots_out_of_order": N_(
        "shot {number} starts at {start} s: each shot must start at least {gap} s after the one "
        "before it (shot {before_number} starts at {before_start} s)"
    ),
    "clip_length_not_in_plan": N_(
        "your plan allows clips of {allowed} s, not {length} s; choose one of those, or ask an admin for a plan "
        "with longer clips"
    ),
    # A plan's (infra.domain.plan): its mistakes are worded through field_errors too.
    "plan_name": N_(
        "use lower-case letters, digits, hyphens and underscores, at most 40, starting with a letter or digit"
    ),
    "plan_without_standard_clip": N_("every plan allows {length}-second clips; add {length}"),
    "control_characters": CONTROL_CHARACTERS,
    "no_visible_text": NO_VISIBLE_TEXT,
}


def custom_error(kind: str, **context: Any) -> PydanticCustomError:
    """A validation error worded by this module's templates (so field_errors translates it)."""
    return PydanticCustomError(kind, _CUSTOM_TEMPLATES[kind], context)


def too_many_tokens(kind: str, tokens: int, counter: TokenCounter, **context: Any) -> PydanticCustomError:
    """A text past what the encoder reads (a kind of `_COUNTED_MESSAGES` counted by tokens)."""
    (_, plural), _ = _COUNTED_MESSAGES[kind]  # always past 77 tokens: the plural in English
    context |= {"tokens": tokens, "method": counter.method, "limit": MAX_PROMPT_TOKENS}
    return PydanticCustomError(kind, plural, context)
