"""The gallery port: published clips, their votes, reports and remixes.

A publication is a card's worth of a render, copied when the owner publishes it (title,
book, author, style, the owner's display name), plus the counts people add. Keeping the
card on the publication lets one query serve a gallery page on both adapters: SQLite
(infra.gallery.sqlite) here, Firestore (infra.gallery.firestore) on Google Cloud.
Votes and reports are one per person per clip; a vote can change, a report cannot.
"""

from __future__ import annotations

import abc

from infra.domain.publication import PAGE_SIZE, GalleryFilter, GallerySort, Publication, Vote


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
