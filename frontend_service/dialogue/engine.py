"""The dialogue engine port. The offline engine and the ChatGPT engine implement it."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from infra.contract import Storyboard
from infra.records import Question, Scene

MAX_QUESTIONS = 3  # a round asks at most this many
MAX_ROUNDS = 2  # after this many rounds the storyboard is made from what is known


@dataclass
class DialogueStep:
    """What the engine says next: questions, or the storyboard."""

    questions: list[Question] = field(default_factory=list)
    storyboard: Storyboard | None = None
    notice: str | None = None
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0


class DialogueEngine(abc.ABC):
    name: str

    @abc.abstractmethod
    def next_step(self, scene: Scene, finish: bool = False) -> DialogueStep:
        """Questions about what the scene still lacks, or (when nothing matters is
        missing, the rounds are used up, or `finish`) the storyboard."""
