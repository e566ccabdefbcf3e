"""A book's reel: its scenes' clips in the book's order, each after a title card (book,
author, chapter), joined into one clip with one WebVTT of every clip's words.

A reel is a render (`Render.reel`): it is queued, run by the render job, stored, shown in
*My renders* and published to the gallery as one item, like a clip. Its spec is the first
clip's, at the reel's whole length, so size, frame rate and aspect are those of its clips.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from infra.domain.subtitles import Cue, offset

#: How long a title card shows (seconds): long enough to read three short lines.
CARD_SECONDS = 3.0


class ReelPart(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scene_id: str
    #: The scene's finished render whose clip this part shows.
    render_id: str
    chapter: str = ""
    duration_s: float = Field(gt=0)


class Reel(BaseModel):
    """What the job joins: the book's title and author for the cards, and the parts in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    book_id: str
    title: str
    author: str = ""
    card_s: float = CARD_SECONDS
    parts: list[ReelPart] = Field(min_length=1)

    @property
    def duration_s(self) -> float:
        return round(sum(self.card_s + part.duration_s for part in self.parts), 3)

    def card_lines(self, part: ReelPart) -> list[str]:
        """A part's title card, top to bottom: the book, its author, the chapter."""
        return [line for line in (self.title, self.author, part.chapter) if line]

    def clip_starts(self) -> list[float]:
        """When each part's clip starts in the reel: after every earlier part and its own card."""
        starts, at = [], 0.0
        for part in self.parts:
            at += self.card_s
            starts.append(round(at, 3))
            at += part.duration_s
        return starts


def reel_cues(reel: Reel, parts_cues: list[list[Cue]]) -> list[Cue]:
    """Every clip's cues, in the reel's order, moved to where its clip starts in the reel."""
    merged: list[Cue] = []
    # strict: cues for more or fewer clips than the parts are a mistake of the caller's.
    for start, part, cues in zip(reel.clip_starts(), reel.parts, parts_cues, strict=True):
        # A cue past its clip's end would show over the next title card: cut at the clip's end.
        inside = [Cue(cue.start_s, min(cue.end_s, part.duration_s), cue.text) for cue in cues]
        merged += offset([cue for cue in inside if cue.start_s < part.duration_s], start)
    return merged
