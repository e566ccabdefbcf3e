"""The gallery's use cases: publish, browse, vote, report, appeal, remix, delete, and
the admins' moderation.

Who may do what: an account publishes its own finished clips (unless an admin stopped it),
unpublishes and deletes them (anyone else gets 403); anyone may see and remix a listed
clip; accounts alone vote and report, one each, and never on their own clip (an
anonymous vote would cost a script nothing but a new cookie). An unlisted clip (private,
unpublished, held for review or hidden) is visible to its owner only; the owner of a
clip held or hidden by moderation may appeal once. Admins clear, hide or delete reported
clips and stop an account from publishing (ModerationFlow; the blueprints check the role).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from frontend_service.flow import NotFound, NotReady, Refusal
from infra.bootstrap import Adapters
from infra.domain.ids import now
from infra.domain.publication import APPEAL_MAX_CHARS, GalleryFilter, GallerySort, Publication, Report, Vote
from infra.domain.render import FINISHED, Render
from infra.domain.scene import Scene
from infra.domain.storyboard import MAX_TITLE_CHARS
from infra.domain.text import Text
from infra.domain.usage import UsageEvent
from infra.domain.user import User, is_account

if TYPE_CHECKING:
    from frontend_service.identity import Person

log = logging.getLogger(__name__)

VOTE_STATUS = {1: "up", -1: "down", 0: "cleared"}


class Forbidden(Refusal):
    """The render exists but belongs to someone else, or this person may not do that."""


class SignInRequired(Forbidden):
    """Only an account may do that (publish, vote, report)."""


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


class ReportRequest(BaseModel):
    reason: Text | None = Field(default=None, max_length=500, description="what is wrong with the clip, for the admins")


class AppealRequest(BaseModel):
    note: Text = Field(
        min_length=1, max_length=APPEAL_MAX_CHARS, description="why the clip should be back, for the admins"
    )


class GalleryQuery(BaseModel):
    """GET /api/gallery's and /gallery's query string."""

    sort: GallerySort = "top"
    q: Text | None = Field(
        default=None,
        max_length=200,
        description="words from a title, book or author: case, accents and unfinished words are fine",
    )
    book: Text | None = Field(default=None, max_length=200)
    author: Text | None = Field(default=None, max_length=200)
    style: Text | None = Field(default=None, max_length=300)
    page: int = Field(default=1, ge=1, le=1000)
    show: Literal["default", "all"] = Field(default="default", description="all: clips voted down are shown too")

    def where(self) -> GalleryFilter:
        return GalleryFilter(
            book=self.book, author=self.author, style=self.style, search=self.q, include_sunk=self.show == "all"
        )


@dataclass
class ClipView:
    """A clip as its detail page shows it: the full recipe."""

    render: Render
    scene: Scene | None
    publication: Publication | None
    my_vote: Vote
    remixed_from: Publication | None
    #: Whether this person has already reported the clip (one report each).
    reported: bool = False


class GalleryFlow:
    def __init__(self, adapters: Adapters):
        self._adapters = adapters
        self._records, self._gallery = adapters.records, adapters.gallery
        #: Told of each clip published for the first time (the Telegram channel's post); never
        #: fails the publishing.
        self.announce: Callable[[Publication], None] | None = None

    def publish(self, person: Person, render_id: str, request: PublishRequest) -> Publication:
        user_id = person.user_id
        render = self._owned(user_id, render_id)
        if not person.account:
            raise SignInRequired("sign in to publish: the gallery takes clips from accounts only")
        user = self._records.get_user(user_id)
        if user is not None and user.publishing_blocked:
            raise Forbidden("an admin has stopped this account from publishing to the gallery")
        if render.state != "succeeded":
            raise NotReady("only a finished clip can be published: wait for the render to succeed")
        storyboard = render.spec.storyboard
        first = self._gallery.get(render.id) is None
        publication = self._gallery.publish(
            Publication(
                render_id=render.id,
                owner_id=user_id,
                owner=request.display_name or default_display_name(user_id),
                title=storyboard.title,
                book=storyboard.book,
                author=storyboard.author,
                style=storyboard.style,
                aspect=storyboard.aspect,
                published_at=now(),
            )
        )
        if first and self.announce is not None:
            try:
                self.announce(publication)
            except Exception:
                log.exception("clip %s published, but not announced", render.id)
        return publication

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

    def viewable(self, user_id: str, render_id: str, admin: bool = False) -> Render:
        """The render, if this user may see it: theirs, or listed in the gallery (for an
        admin, published: held and hidden clips are theirs to judge)."""
        render = self._records.get_render(render_id)
        publication = self._gallery.get(render_id) if render and render.user_id != user_id else None
        return _check_visible(user_id, render, publication, admin)

    def clip(self, user_id: str, render_id: str, admin: bool = False) -> ClipView:
        publication = self._gallery.get(render_id)
        render = _check_visible(user_id, self._records.get_render(render_id), publication, admin)
        scene = self._records.get_scene(render.scene_id) if render.scene_id else None
        source = scene.remix_of if scene else None
        remixed_from = self._gallery.get(source) if source else None
        return ClipView(
            render=render,
            scene=scene,
            publication=publication,
            my_vote=self._gallery.vote_of(render_id, user_id),
            remixed_from=remixed_from if remixed_from and remixed_from.listed else None,
            reported=publication is not None
            and any(report.user_id == user_id for report in self._gallery.reports_on(render_id)),
        )

    def vote(self, person: Person, render_id: str, value: Vote) -> Publication:
        self._reacting(
            person,
            render_id,
            SignInRequired("sign in to vote: votes and reports count from accounts only, one each"),
            Forbidden("you cannot vote on your own clip"),
        )
        publication = self._counted(lambda: self._gallery.vote(render_id, person.user_id, value))
        self._adapters.usage.record(
            UsageEvent(kind="rating", user_id=person.user_id, render_id=render_id, status=VOTE_STATUS[value])
        )
        return publication

    def report(self, person: Person, render_id: str, request: ReportRequest) -> Publication:
        self._reacting(
            person,
            render_id,
            SignInRequired("sign in to report: votes and reports count from accounts only, one each"),
            Forbidden("you cannot report your own clip"),
        )
        return self._counted(lambda: self._gallery.report(render_id, person.user_id, request.reason))

    def appeal(self, person: Person, render_id: str, request: AppealRequest) -> Publication:
        """The owner's one appeal against a clip held for review or hidden."""
        self._owned(person.user_id, render_id)
        if self._gallery.get(render_id) is None:
            raise NotFound("this clip was never published")

        def appealed(publication: Publication) -> Publication:
            if not publication.moderated:
                raise NotReady("this clip is not held or hidden, so there is nothing to appeal")
            if publication.appeal is not None:
                raise NotReady("this clip has had its appeal: a clip may be appealed once")
            return publication.appealed(request.note, now())

        return self._gallery.change(render_id, appealed)

    def remix(self, user_id: str, render_id: str, title: Callable[[str], str] = "Remix of {}".format) -> Scene:
        """A new scene for this user with the clip's storyboard, ready to edit and render,
        under a title of its own (`title` words it, in the person's language), so the
        remix and its original never show as two identical cards."""
        render = self.viewable(user_id, render_id)
        if render.reel is not None:  # it has no storyboard of its own: its spec is its first clip's
            raise NotReady("a book's reel joins the clips of its scenes and cannot be remixed: remix one of its scenes")
        original = self._records.get_scene(render.scene_id) if render.scene_id else None
        storyboard = render.spec.storyboard
        storyboard = storyboard.model_copy(update={"title": _fitted(title, storyboard.title)})
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
        with contextlib.suppress(KeyError):  # never published, or taken down since it was read
            self._gallery.add_remix(render_id)
        return scene

    def delete(self, user_id: str, render_id: str) -> None:
        """The render, its files and its place in the gallery; refused while it renders."""
        render = self._owned(user_id, render_id)
        if render.state not in FINISHED:
            raise NotReady("this render is still in progress: delete it once it has finished or failed")
        self.remove(render)

    def remove(self, render: Render) -> None:
        for key in render.artifacts.values():
            self._adapters.storage.delete(key)
        self._gallery.delete(render.id)
        self._records.delete_render(render.id)

    def _reacting(self, person: Person, render_id: str, anonymous: Refusal, own: Refusal) -> Publication:
        """Votes and reports: accounts only, on someone else's listed clip."""
        if not person.account:
            raise anonymous
        publication = self._listed(render_id)
        if publication.owner_id == person.user_id:
            raise own
        return publication

    def _owned(self, user_id: str, render_id: str) -> Render:
        render = self._records.get_render(render_id)
        if render is None:
            raise NotFound("no such render")
        if render.user_id != user_id:
            raise Forbidden("only the clip's owner can do that")
        return render

    def _counted(self, count: Callable[[], Publication]) -> Publication:
        """A vote or report on a clip that was listed when read: deleted since (by its owner or
        an admin, a moment before), it is not found, as it would be a moment later."""
        try:
            return count()
        except KeyError:
            raise NotFound("no such clip in the gallery") from None

    def _listed(self, render_id: str) -> Publication:
        publication = self._gallery.get(render_id)
        if publication is None or not publication.listed:
            raise NotFound("no such clip in the gallery")
        return publication


@dataclass
class ReviewItem:
    """A clip on the moderation page: what was reported, by whom, and its owner."""

    publication: Publication
    reports: list[Report]
    owner: User | None


class ModerationFlow:
    """What admins do with reported clips and the accounts behind them. The callers (the
    moderation blueprints) have already checked the person is an admin."""

    def __init__(self, adapters: Adapters, gallery: GalleryFlow):
        self._records, self._gallery, self._flow = adapters.records, adapters.gallery, gallery

    def queue(self) -> list[ReviewItem]:
        items = []
        for publication in self._gallery.for_review():
            reports = self._gallery.reports_on(publication.render_id)
            items.append(ReviewItem(publication, reports, self._records.get_user(publication.owner_id)))
        return items

    def blocked(self) -> list[User]:
        return self._records.users_blocked_from_publishing()

    def clear(self, render_id: str) -> Publication:
        return self._decide(render_id, Publication.cleared)

    def hide(self, render_id: str) -> Publication:
        return self._decide(render_id, Publication.hidden_by_admin)

    def delete(self, render_id: str) -> None:
        render = self._records.get_render(render_id)
        if render is None:
            raise NotFound("no such render")
        self._flow.remove(render)

    def block_publishing(self, user_id: str, blocked: bool) -> User:
        # An account's id only (never a path a document store would read otherwise, like "..").
        if not is_account(user_id) or self._records.get_user(user_id) is None:
            raise NotFound("no such account")
        return self._records.set_publishing_blocked(user_id, blocked)

    def _decide(self, render_id: str, decision) -> Publication:
        try:
            return self._gallery.change(render_id, decision)
        except KeyError:
            raise NotFound("no such clip in the gallery") from None


def _check_visible(user_id: str, render: Render | None, publication: Publication | None, admin: bool = False) -> Render:
    """A render is seen by its owner, by anyone while it is listed in the gallery, and by
    an admin while it is published (held or hidden included; never a private render)."""
    if render is None:
        raise NotFound("no such render")
    shown = publication is not None and (publication.listed or (admin and publication.published))
    if render.user_id != user_id and not shown:
        raise NotFound("no such render")
    return render


def _fitted(title: Callable[[str], str], original: str) -> str:
    """The remix's title within a storyboard title's limit: the original's end gives way."""
    worded = title(original)
    over = len(worded) - MAX_TITLE_CHARS
    return worded if over <= 0 else title(original[: max(1, len(original) - over - 1)].rstrip() + "…")


def default_display_name(user_id: str) -> str:
    """A short tag that tells two readers apart and gives away nothing of the account."""
    return f"Reader {hashlib.sha256(user_id.encode()).hexdigest()[:6]}"
