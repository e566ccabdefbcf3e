"""A published clip: a card's worth of a render, copied when the owner publishes it (title,
book, author, style, the owner's display name), plus the counts people add, and the
rules that follow from the counts (a clip sinks, a clip is hidden)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from infra.domain.ids import now

GallerySort = Literal["top", "new"]
Vote = Literal[-1, 0, 1]

PAGE_SIZE = 12
# A clip with at least this many votes, fewer than this share of them up, leaves the
# default view (it stays reachable by its address and with show=all).
SINK_MIN_VOTES, SINK_BELOW_UP_SHARE = 5, 0.35
# Reports from this many people hide a clip until someone reviews it.
HIDE_AFTER_REPORTS = 3


class Publication(BaseModel):
    render_id: str
    owner_id: str
    owner: str
    title: str
    book: str | None = None
    author: str | None = None
    style: str
    published: bool = True
    published_at: datetime = Field(default_factory=now)
    up: int = 0
    down: int = 0
    reports: int = 0
    remixes: int = 0
    hidden: bool = False
    # Derived from the counts, stored so both adapters can filter and sort on them.
    score: int = 0
    votes: int = 0
    sunk: bool = False

    def counted(self, up: int, down: int, reports: int) -> Publication:
        """The publication with new counts and what follows from them."""
        votes = up + down
        return self.model_copy(
            update={
                "up": up,
                "down": down,
                "reports": reports,
                "score": up - down,
                "votes": votes,
                "sunk": votes >= SINK_MIN_VOTES and up / votes < SINK_BELOW_UP_SHARE,
                "hidden": self.hidden or reports >= HIDE_AFTER_REPORTS,
            }
        )

    def over(self, earlier: Publication) -> Publication:
        """This fresh card published again over an earlier publication of the render:
        the votes, reports, remixes and a hiding carry over."""
        kept = self.model_copy(update={"hidden": earlier.hidden, "remixes": earlier.remixes})
        return kept.counted(earlier.up, earlier.down, earlier.reports)

    @property
    def listed(self) -> bool:
        return self.published and not self.hidden

    def filter_keys(self) -> dict[str, str | None]:
        """Book, author and style as the gallery filters compare them (case-blind)."""
        return {name: _key(getattr(self, name)) for name in FILTERS}


class GalleryFilter(BaseModel):
    book: str | None = None
    author: str | None = None
    style: str | None = None
    include_sunk: bool = False

    def keys(self) -> dict[str, str]:
        """The filters given, keyed for comparison."""
        return {name: key for name in FILTERS if (key := _key(getattr(self, name)))}


FILTERS = ("book", "author", "style")


def _key(value: str | None) -> str | None:
    return " ".join(value.casefold().split()) if value else None
