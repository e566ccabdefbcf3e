"""A book project: several scenes of one book that share one cast and one look.

The book's bible (characters, places, period, style) and its seed policy carry from
scene to scene: every storyboard drafted for a scene of the book is dressed with them
(`Book.dress`), so each shot names a character with the same description, every scene
has the same style and aspect, and the seeds follow one rule. The person orders the
scenes, each under a chapter label, and renders the reel of their clips.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from infra.domain.ids import new_id, now
from infra.domain.presets import DEFAULT_ASPECT, Aspect
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter, TokenCounter
from infra.domain.storyboard import (
    MAX_SEED,
    MAX_TITLE_CHARS,
    Shot,
    Storyboard,
    compose_prompt,
    token_counter,
    too_many_tokens,
)
from infra.domain.text import N_, Text, VisibleText

MAX_BOOK_SCENES = 12
MAX_CAST = 12
MAX_CHAPTER_CHARS = 120

#: "shared": every scene renders with the book's seed, so a character drawn from the same
#: words starts from the same noise; "per_scene": scene n (from 0) takes seed + n, for
#: variety while each scene stays reproducible.
SeedPolicy = Literal["shared", "per_scene"]


class Described(BaseModel):
    """A character or a place: a name the shots use, and how it looks (in English, as prompts are)."""

    model_config = ConfigDict(extra="forbid")

    name: VisibleText = Field(min_length=1, max_length=80)
    look: Text = Field(default="", max_length=200)


#: Tokens the book's style and period may take together. Every shot's prompt carries them,
#: and the text encoder reads 77: past this, too little is left for what a shot shows (a
#: style and period of 83 tokens cut each drafted prompt to three words, then failed at render).
MAX_LOOK_TOKENS = 40


class BookBible(BaseModel):
    """What stays the same from scene to scene."""

    model_config = ConfigDict(extra="forbid")

    characters: list[Described] = Field(default_factory=list, max_length=MAX_CAST)
    places: list[Described] = Field(default_factory=list, max_length=MAX_CAST)
    period: Text = Field(default="", max_length=120, description="when the book happens, e.g. 'St Petersburg, 1860s'")
    style: Text = Field(default="", max_length=160, description="the art style of every scene")

    def look_style(self) -> str:
        """The style every storyboard of the book gets: the style, then the period."""
        return _look(self.style, self.period)


class SentBookBible(BookBible):
    """A bible as a person sends it, for a new book or a change: its style and period must
    leave each shot room (`MAX_LOOK_TOKENS`). Bibles stored before this check read as they are;
    a change that sends such a book's bible (the page's form always does) must make it fit."""

    # The style is checked when left out too (a period alone can be too long): pydantic checks
    # no default otherwise.
    model_config = ConfigDict(validate_default=True)  # merged with BookBible's extra="forbid"

    @field_validator("style")
    @classmethod
    def _leaves_room_for_the_shots(cls, style: str, info: ValidationInfo) -> str:
        counter = token_counter(info)
        tokens = counter(_look(style, info.data.get("period", "")))
        if tokens > MAX_LOOK_TOKENS:
            raise too_many_tokens("book_look_too_long", tokens, counter, budget=MAX_LOOK_TOKENS)
        return style


def _look(style: str, period: str) -> str:
    return ", ".join(part for part in (style, period) if part)


class Chapter(BaseModel):
    """One scene of the book in its place, under its chapter label (the title card's)."""

    model_config = ConfigDict(extra="forbid")

    scene_id: str = Field(min_length=1, max_length=64)
    chapter: Text = Field(default="", max_length=MAX_CHAPTER_CHARS)


class Book(BaseModel):
    id: str = Field(default_factory=new_id)
    user_id: str
    title: VisibleText = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    author: Text = Field(default="", max_length=200)
    #: Every scene of a book has one frame shape: clips of one size join into one reel.
    aspect: Aspect = DEFAULT_ASPECT
    bible: BookBible = Field(default_factory=BookBible)
    seed_policy: SeedPolicy = "shared"
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    #: The scenes in the reel's order.
    chapters: list[Chapter] = Field(default_factory=list, max_length=MAX_BOOK_SCENES)
    version: int = 0
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)

    @field_validator("chapters")
    @classmethod
    def _each_scene_once(cls, chapters: list[Chapter]) -> list[Chapter]:
        ids = [chapter.scene_id for chapter in chapters]
        if len(set(ids)) != len(ids):
            raise ValueError(N_("a scene can be in a book only once"))
        return chapters

    def scene_ids(self) -> list[str]:
        return [chapter.scene_id for chapter in self.chapters]

    def seed_for(self, scene_id: str) -> int:
        """The seed of a scene of this book; a scene not yet in it is about to be the last."""
        if self.seed_policy == "shared":
            return self.seed
        ids = self.scene_ids()
        position = ids.index(scene_id) if scene_id in ids else len(ids)
        return (self.seed + position) % (MAX_SEED + 1)

    def dress(self, storyboard: Storyboard, scene_id: str, counter: TokenCounter | None = None) -> Storyboard:
        """The storyboard in the book's look: its title and author, aspect, style (and
        period), the seed its policy gives this scene, and each character or place a shot
        names followed by its description, as far as the prompt's tokens allow."""
        count = counter or EstimatedTokenCounter()
        style = self.bible.look_style() or storyboard.style
        cast = [*self.bible.characters, *self.bible.places]
        shots = [_described(shot, cast, style, count) for shot in storyboard.shots]
        return storyboard.model_copy(
            update={
                "book": self.title,
                "author": self.author or storyboard.author,
                "aspect": self.aspect,
                "style": style,
                "seed": self.seed_for(scene_id),
                "shots": shots,
            }
        )


def _described(shot: Shot, cast: list[Described], style: str, count: TokenCounter) -> Shot:
    prompt = shot.prompt
    for member in cast:
        if not member.look or member.look.lower() in prompt.lower():
            continue
        match = re.search(rf"\b{re.escape(member.name)}\b", prompt, flags=re.IGNORECASE)
        if match is None:
            continue
        longer = f"{prompt[: match.end()]} ({member.look}){prompt[match.end() :]}"
        if count(compose_prompt(shot.model_copy(update={"prompt": longer}), style)) <= MAX_PROMPT_TOKENS:
            prompt = longer
    # The book's style may be longer than the one the prompt was fitted to: drop words from
    # the prompt's end until it fits again, as the offline engine fits its drafts.
    words = prompt.split()
    while len(words) > 3 and count(compose_prompt(shot.model_copy(update={"prompt": " ".join(words)}), style)) > (
        MAX_PROMPT_TOKENS
    ):
        words.pop()
    return shot.model_copy(update={"prompt": " ".join(words)})
