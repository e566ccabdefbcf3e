"""The dialogue engine port. The offline engine and the ChatGPT engine implement it."""

from __future__ import annotations

import abc
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.domain.scene import Question, Scene
from infra.domain.storyboard import MAX_SEED, Storyboard

MAX_QUESTIONS = 3  # a round asks at most this many
MAX_ROUNDS = 2  # after this many rounds the storyboard is made from what is known


def scene_seed(scene_text: str) -> int:
    """The seed every engine gives a scene: the same scene always makes the same clip, and
    nothing a language model says can choose it."""
    return int(hashlib.sha256(scene_text.encode()).hexdigest()[:8], 16) % (MAX_SEED + 1)


@dataclass
class ModelCall:
    """One call to a language or moderation model: each becomes a usage event."""

    kind: Literal["dialogue_turn", "moderation"]
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    status: str = "ok"


@dataclass
class DialogueStep:
    """What the engine says next: questions, or the storyboard (with the scene bible)."""

    questions: list[Question] = field(default_factory=list)
    storyboard: Storyboard | None = None
    bible: dict[str, Any] | None = None
    notice: str | None = None
    calls: list[ModelCall] = field(default_factory=list)
    #: The engine that made this step: another's name when a fallback stood in.
    engine: str = ""


class Refused(Exception):
    """Moderation flagged the text: nothing is rendered, and the message says why, politely."""

    def __init__(self, message: str, category: str, calls: list[ModelCall]):
        super().__init__(message)
        self.category, self.calls = category, calls


class DialogueEngine(abc.ABC):
    name: str

    @abc.abstractmethod
    def next_step(self, scene: Scene, finish: bool = False) -> DialogueStep:
        """Questions about what the scene still lacks, or (when nothing that matters is
        missing, the rounds are used up, or `finish`) the storyboard. Raises Refused."""

    def moderate(self, texts: list[str], language: str = "en") -> list[ModelCall]:
        """Checks text a person wrote (an edited storyboard); raises Refused when flagged.
        An engine without a moderation model lets everything through."""
        return []
