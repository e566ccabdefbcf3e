"""The gallery's use cases: publish, browse, vote, report, remix, delete.

Who may do what: the owner publishes, unpublishes and deletes (anyone else gets 403);
anyone may see, vote on, report and remix a listed clip; an unlisted clip (private,
unpublished or hidden by reports) is visible to its owner only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from frontend_service.flow import NotFound, NotReady
from infra.bootstrap import Adapters
from infra.domain.ids import now
from infra.domain.publication import GalleryFilter, GallerySort, Publication, Vote
from infra.domain.render import FINISHED, Render
from infra.domain.scene import Scene
from infra.domain.text import Text
from infra.domain.usage import UsageEvent

VOTE_STATUS = {1: "up", -1: "down", 0: "cleared"}


class Forbidden(Exception):
    """The render exists but belongs to someone else."""


class PublishRequest(BaseModel):
    display_name: Text | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="how the gallery names you; by default 'Reader' and a tag",
    )


class VoteRequest(BaseModel):
    # A strict integer: pydantic's Literal takes true for 1 and 1.0 for 1.
    value: int = Field(strict=True, ge=-1, le=1, description="1 up, -1 down, 0 takes the vote back")

    @property
    def vote(self) -> Vote:
        return -1 if self.value < 0 else 1 if self.value > 0 else 0


class GalleryQuery(BaseModel):
    """GET /api/gallery's and /gallery's query string."""

    sort: GallerySort = "top"
    book: Text | None = Field(default=None, max_length=200)
    author: Text | None = Field(default=None, max_length=200)
    style: Text | None = Field(default=None, max_length=300)
    page: int = Field(default=1, ge=1, le=1000)
    show: Literal["default", "all"] = Field(default="default", description="all: clips voted down are shown too")

    def where(self) -> GalleryFilter:
        return GalleryFilter(book=self.book, author=self.author, style=self.style, include_sunk=self.show == "all")


@dataclass
class ClipView:
    """A clip as its detail page shows it: the full recipe."""

    render: Render
    scene: Scene | None
    publication: Publication | None
    my_vote: Vote
    remixed_from: Publication | None


class GalleryFlow:
    def __init__(self, adapters: Adapters):
        self._adapters = adapters
        self._records, self._gallery = adapters.records, adapters.gallery

    def publish(self, user_id: str, render_id: str, request: PublishRequest) -> Publication:
        render = self._owned(user_id, render_id)
        if render.state != "succeeded":
            raise NotReady("only a finished clip can be published: wait for the render to succeed")
        storyboard = render.spec.storyboard
        return self._gallery.publish(
            Publication(
                render_id=render.id,
                owner_id=user_id,
                owner=request.display_name or default_display_name(user_id),
                title=storyboard.title,
                book=storyboard.book,
                author=storyboard.author,
                style=storyboard.style,
                published_at=now(),
            )
        )

    def unpublish(self, user_id: str, render_id: str) -> Publication:
        self._owned(user_id, render_id)
        if self._gallery.get(render_id) is None:
            raise NotReady("this clip was never published, so there is nothing to take out of the gallery")
        self._gallery.unpublish(render_id)
        publication = self._gallery.get(render_id)
        assert publication is not None  # unpublishing keeps the publication, unlisted
        return publication

    def page(
        self, sort: GallerySort, where: GalleryFilter, page: int, page_size: int = 12
    ) -> tuple[list[Publication], bool]:
        return self._gallery.page(sort, where, page, page_size)

    def my_vote(self, user_id: str, render_id: str) -> Vote:
        return self._gallery.vote_of(render_id, user_id)

    def publication(self, render_id: str) -> Publication | None:
        return self._gallery.get(render_id)

    def viewable(self, user_id: str, render_id: str) -> Render:
        """The render, if this user may see it: theirs, or listed in the gallery."""
        render = self._records.get_render(render_id)
        publication = self._gallery.get(render_id) if render and render.user_id != user_id else None
        return _check_visible(user_id, render, publication)

    def clip(self, user_id: str, render_id: str) -> ClipView:
        publication = self._gallery.get(render_id)
        render = _check_visible(user_id, self._records.get_render(render_id), publication)
        scene = self._records.get_scene(render.scene_id) if render.scene_id else None
        source = scene.remix_of if scene else None
        remixed_from = self._gallery.get(source) if source else None
        return ClipView(
            render=render,
            scene=scene,
            publication=publication,
            my_vote=self._gallery.vote_of(render_id, user_id),
            remixed_from=remixed_from if remixed_from and remixed_from.listed else None,
        )

    def vote(self, user_id: str, render_id: str, value: Vote) -> Publication:
        self._listed(render_id)
        publication = self._gallery.vote(render_id, user_id, value)
        self._adapters.usage.record(
            UsageEvent(kind="rating", user_id=user_id, render_id=render_id, status=VOTE_STATUS[value])
        )
        return publication

    def report(self, user_id: str, render_id: str) -> Publication:
        self._listed(render_id)
        return self._gallery.report(render_id, user_id)

    def remix(self, user_id: str, render_id: str) -> Scene:
        """A new scene for this user with the clip's storyboard, ready to edit and render."""
        render = self.viewable(user_id, render_id)
        original = self._records.get_scene(render.scene_id) if render.scene_id else None
        storyboard = render.spec.storyboard
        scene = Scene(
            user_id=user_id,
            text=original.text if original else storyboard.title,
            book=storyboard.book,
            author=storyboard.author,
            bible=original.bible if original else None,
            state="ready",
            storyboard=storyboard,
            engine="remix",
            remix_of=render_id,
        )
        self._records.save_scene(scene)
        if self._gallery.get(render_id) is not None:
            self._gallery.add_remix(render_id)
        return scene

    def delete(self, user_id: str, render_id: str) -> None:
        """The render, its files and its place in the gallery; refused while it renders."""
        render = self._owned(user_id, render_id)
        if render.state not in FINISHED:
            raise NotReady("this render is still in progress: delete it once it has finished or failed")
        for key in render.artifacts.values():
            self._adapters.storage.delete(key)
        self._gallery.delete(render_id)
        self._records.delete_render(render_id)

    def _owned(self, user_id: str, render_id: str) -> Render:
        render = self._records.get_render(render_id)
        if render is None:
            raise NotFound("no such render")
        if render.user_id != user_id:
            raise Forbidden("only the clip's owner can do that")
        return render

    def _listed(self, render_id: str) -> Publication:
        publication = self._gallery.get(render_id)
        if publication is None or not publication.listed:
            raise NotFound("no such clip in the gallery")
        return publication


def _check_visible(user_id: str, render: Render | None, publication: Publication | None) -> Render:
    """A render is seen by its owner, and by anyone while it is listed in the gallery."""
    if render is None or (render.user_id != user_id and not (publication and publication.listed)):
        raise NotFound("no such render")
    return render


def default_display_name(user_id: str) -> str:
    return f"Reader {user_id[:6]}"
