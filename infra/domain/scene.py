"""A scene as the person wrote it, and where the clarifying dialogue about it stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from infra.domain.ids import new_id, now
from infra.domain.storyboard import Storyboard

SceneState = Literal["asking", "ready"]


class Question(BaseModel):
    id: str
    text: str


class Scene(BaseModel):
    """A scene as the person wrote it, and where the dialogue about it stands."""

    id: str = Field(default_factory=new_id)
    user_id: str
    text: str
    book: str | None = None
    author: str | None = None
    passage: str | None = None
    state: SceneState = "asking"
    questions: list[Question] = Field(default_factory=list)
    answers: dict[str, str] = Field(default_factory=dict)
    #: A chat asks one question at a time: its answers wait here until the round's every
    #: question has one, then go to the dialogue together (SceneFlow.hold_answer).
    held_answers: dict[str, str] = Field(default_factory=dict)
    rounds: int = 0
    storyboard: Storyboard | None = None
    #: What the dialogue learned: characters, place, era, ..., each marked "text" or "invented".
    bible: dict[str, Any] | None = None
    engine: str = ""
    notice: str | None = None
    #: The published render this scene's storyboard was copied from.
    remix_of: str | None = None
    #: The book project this scene belongs to: its storyboards are dressed in the book's look.
    book_id: str | None = None
    #: Goes up by one with every change a person or the dialogue makes: the storyboard's ETag.
    version: int = 0
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
