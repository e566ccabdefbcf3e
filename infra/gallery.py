"""The gallery port: published clips, their votes, reports and remixes.

A publication is a card's worth of a render, copied when the owner publishes it (title,
book, author, style, the owner's display name), plus the counts people add. Keeping the
card on the publication lets one query serve a gallery page on both adapters: SQLite
(infra.gallery_sqlite) here, Firestore (infra.gallery_firestore) on Google Cloud.
Votes and reports are one per person per clip; a vote can change, a report cannot.
"""

from __future__ import annotations

import abc
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from infra.records import now

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
        return {name: _key(getattr(self, name)) for name in FILTERS if getattr(self, name)}


FILTERS = ("book", "author", "style")


def _key(value: str | None) -> str | None:
    return " ".join(value.casefold().split()) if value else None


class Gallery(abc.ABC):
    @abc.abstractmethod
    def publish(self, publication: Publication) -> Publication:
        """Publishes a render, or publishes it again with a fresh card; counts carry over."""

    @abc.abstractmethod
    def unpublish(self, render_id: str) -> None: ...

    @abc.abstractmethod
    def get(self, render_id: str) -> Publication | None: ...

    @abc.abstractmethod
    def page(
        self, sort: GallerySort, where: GalleryFilter, page: int, page_size: int = PAGE_SIZE
    ) -> tuple[list[Publication], bool]:
        """One page (from 1) of listed publications, and whether another page follows."""

    @abc.abstractmethod
    def vote(self, render_id: str, user_id: str, value: Vote) -> Publication:
        """Sets the user's vote (0 takes it back) and the counts, in one transaction."""

    @abc.abstractmethod
    def vote_of(self, render_id: str, user_id: str) -> Vote: ...

    @abc.abstractmethod
    def report(self, render_id: str, user_id: str) -> Publication:
        """Counts one report per user; enough of them hide the clip."""

    @abc.abstractmethod
    def add_remix(self, render_id: str) -> None: ...

    @abc.abstractmethod
    def delete(self, render_id: str) -> None:
        """Forgets the publication, its votes and reports."""
