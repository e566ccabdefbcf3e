"""A published clip: a card's worth of a render, copied when the owner publishes it (title,
book, author, style, the owner's display name), plus the counts people add, and the
rules that follow from the counts and from moderation (a clip sinks; a reported clip is
held for an admin, who hides or clears it; its owner may appeal once)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from itertools import accumulate
from typing import Literal

from pydantic import BaseModel, Field

from infra.domain.ids import now
from infra.domain.presets import DEFAULT_ASPECT, Aspect

GallerySort = Literal["top", "new"]
Vote = Literal[-1, 0, 1]

PAGE_SIZE = 12
# A clip with at least this many votes, fewer than this share of them up, leaves the
# default view (it stays reachable by its address and with show=all).
SINK_MIN_VOTES, SINK_BELOW_UP_SHARE = 5, 0.35
# Reports from this many accounts, since an admin last looked, hold a clip out of the
# gallery until an admin hides or clears it (docs/architecture.md says why it is held
# rather than left up).
REVIEW_AFTER_REPORTS = 3
APPEAL_MAX_CHARS = 1000
# The gallery's search matches the start of any word of a title, book or author, and what
# follows it, for this many characters (normalised): Firestore has no substring search, so
# each publication stores every such beginning (search_terms) and a query asks for one.
SEARCH_MAX_CHARS = 40
SEARCHED = ("title", "book", "author")


class Publication(BaseModel):
    render_id: str
    owner_id: str
    owner: str
    title: str
    book: str | None = None
    author: str | None = None
    style: str
    #: The clip's frame shape, so a card is drawn at its shape before its poster loads.
    aspect: Aspect = DEFAULT_ASPECT
    published: bool = True
    published_at: datetime = Field(default_factory=now)
    up: int = 0
    down: int = 0
    reports: int = 0
    remixes: int = 0
    #: Hidden by an admin (or, before admins reviewed reports, by reports alone).
    hidden: bool = False
    #: The reports an admin has already decided on; only later ones count towards a hold.
    reviewed_reports: int = 0
    #: The owner's one appeal against a hold or a hiding, and whether an admin has yet to answer it.
    appeal: str | None = None
    appealed_at: datetime | None = None
    appeal_open: bool = False
    # Derived from the counts, stored so both adapters can filter and sort on them.
    score: int = 0
    votes: int = 0
    sunk: bool = False
    #: Enough reports since the last review: out of the gallery until an admin decides.
    held: bool = False
    #: On the admins' moderation page: reports since the last review, or an open appeal.
    needs_review: bool = False

    def counted(self, up: int, down: int, reports: int) -> Publication:
        """The publication with new counts and what follows from them."""
        votes = up + down
        return self._derived(
            up=up,
            down=down,
            reports=reports,
            score=up - down,
            votes=votes,
            sunk=votes >= SINK_MIN_VOTES and up / votes < SINK_BELOW_UP_SHARE,
        )

    def over(self, earlier: Publication) -> Publication:
        """This fresh card published again over an earlier publication of the render:
        the votes, reports, remixes and moderation carry over."""
        kept = self.model_copy(update={name: getattr(earlier, name) for name in CARRIED_OVER})
        return kept.counted(earlier.up, earlier.down, earlier.reports)

    def cleared(self) -> Publication:
        """An admin's decision that the clip may stay: back in the gallery, the reports so
        far answered, an appeal answered."""
        return self._derived(hidden=False, reviewed_reports=self.reports, appeal_open=False)

    def hidden_by_admin(self) -> Publication:
        """An admin's decision that the clip goes: out of the gallery for everyone but its
        owner, the reports so far answered, an appeal answered (and spent)."""
        return self._derived(hidden=True, reviewed_reports=self.reports, appeal_open=False)

    def appealed(self, note: str, at: datetime) -> Publication:
        return self._derived(appeal=note, appealed_at=at, appeal_open=True)

    @property
    def open_reports(self) -> int:
        return max(0, self.reports - self.reviewed_reports)

    @property
    def moderated(self) -> bool:
        """Out of the gallery by moderation (held for review or hidden), not by its owner."""
        return self.hidden or self.held

    @property
    def listed(self) -> bool:
        return self.published and not self.moderated

    def _derived(self, **changes) -> Publication:
        changed = self.model_copy(update=changes)
        held = not changed.hidden and changed.open_reports >= REVIEW_AFTER_REPORTS
        return changed.model_copy(
            update={"held": held, "needs_review": changed.open_reports > 0 or changed.appeal_open}
        )

    def search_terms(self) -> list[str]:
        """Every beginning of every word's rest of its field, normalised (case, accents and
        punctuation left out) and at most SEARCH_MAX_CHARS long: "Crime and Punishment" gives
        "c", "cr", ... "crime and punishment", "a", "an", "and", ... "punishment"."""
        terms: set[str] = set()
        for text in self.search_fields():
            words = text.split(" ")
            for start in range(len(words)):
                rest = " ".join(words[start:])[:SEARCH_MAX_CHARS]
                terms.update(term for term in accumulate(rest) if not term.endswith(" "))
        return sorted(terms)

    def search_fields(self) -> list[str]:
        """The title, book and author as the search compares them (search_key)."""
        return [key for name in SEARCHED if (key := search_key(getattr(self, name)))]

    def filter_keys(self) -> dict[str, str | None]:
        """Book, author and style as the gallery filters compare them (case-blind)."""
        return {name: _key(getattr(self, name)) for name in FILTERS}


class GalleryFilter(BaseModel):
    book: str | None = None
    author: str | None = None
    style: str | None = None
    #: Words from a title, book or author, matched from the start of a word, partly typed too.
    search: str | None = None
    include_sunk: bool = False

    def search_term(self) -> str | None:
        """The search as the stored terms hold it (normalised, at most SEARCH_MAX_CHARS)."""
        key = search_key(self.search)
        return key[:SEARCH_MAX_CHARS].rstrip() if key else None

    def keys(self) -> dict[str, str]:
        """The filters given, keyed for comparison."""
        return {name: key for name in FILTERS if (key := _key(getattr(self, name)))}


FILTERS = ("book", "author", "style")
# What publishing a render again keeps from its earlier publication.
CARRIED_OVER = ("remixes", "hidden", "reviewed_reports", "appeal", "appealed_at", "appeal_open")


def review_order(publication: Publication) -> tuple:
    """Held clips first, then open appeals, then the most reported, oldest first."""
    return (
        not publication.held,
        not publication.appeal_open,
        -publication.open_reports,
        publication.published_at,
    )


class Report(BaseModel):
    """One account's report of a clip: one per account and clip, kept as first made."""

    user_id: str
    reason: str | None = None
    created_at: datetime = Field(default_factory=now)


def _key(value: str | None) -> str | None:
    return " ".join(value.casefold().split()) if value else None


def search_key(value: str | None) -> str | None:
    """Text as the search compares it: accents off (é is e, ё is е), case folded, anything
    but letters and digits a single space. None when nothing is left. Russian й keeps its
    breve: it is a letter of its own (война is a war, воина a warrior's), where ё is е as
    most Russian print writes it."""
    if not value:
        return None
    composed = unicodedata.normalize("NFC", value.casefold())  # й typed as и and a breve is й
    bare = "".join(_without_accents(c) for c in composed)
    words = "".join(c if c.isalnum() else " " for c in unicodedata.normalize("NFKC", bare)).split()
    return " ".join(words) or None


def _without_accents(character: str) -> str:
    if character == "й":
        return character
    return "".join(c for c in unicodedata.normalize("NFKD", character) if not unicodedata.combining(c))
