"""The gallery port: published clips, their votes, reports and remixes.

A publication is a card's worth of a render, copied when the owner publishes it (title,
book, author, style, the owner's display name), plus the counts people add. Keeping the
card on the publication lets one query serve a gallery page on both adapters: SQLite
(infra.gallery.sqlite) here, Firestore (infra.gallery.firestore) on Google Cloud.
Votes and reports are one per person per clip; a vote can change, a report cannot.
Who may vote or report (accounts only, not the owner) is the use case's rule
(frontend_service.gallery_flow); the port counts what it is given.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

from infra.domain.publication import PAGE_SIZE, GalleryFilter, GallerySort, Publication, Report, Vote


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
    def report(self, render_id: str, user_id: str, reason: str | None = None) -> Publication:
        """Counts one report per user (a second one changes nothing, its reason included);
        enough of them hold the clip for an admin."""

    @abc.abstractmethod
    def reports_on(self, render_id: str) -> list[Report]:
        """The clip's reports, oldest first."""

    @abc.abstractmethod
    def change(self, render_id: str, change: Callable[[Publication], Publication]) -> Publication:
        """Writes change(publication) unless someone wrote it in between (then reads and
        changes it again): an admin's decision, an owner's appeal. KeyError when there is
        none; an exception `change` raises leaves it as it was."""

    @abc.abstractmethod
    def for_review(self, limit: int = 200) -> list[Publication]:
        """The publications an admin should look at (needs_review), held ones first, then
        open appeals, then the most reported."""

    @abc.abstractmethod
    def transfer_owner(self, from_user: str, to_user: str) -> int:
        """Gives every publication of one user to another (an anonymous person who signed
        in); the number moved."""

    @abc.abstractmethod
    def add_remix(self, render_id: str) -> None: ...

    @abc.abstractmethod
    def delete(self, render_id: str) -> None:
        """Forgets the publication, its votes and reports."""

    @abc.abstractmethod
    def reindex(self) -> int:
        """Works out again, from each publication's own card and counts, what is stored to be
        compared and sorted on (listed, filter keys, search words, score, sunk, held, needs
        review) and writes it where it differs; the number written. A publication that cannot
        be read is left as it is, with a warning. For publications stored before one of these
        existed, or after the way one is worked out changed (`python -m infra.gallery_reindex`)."""
