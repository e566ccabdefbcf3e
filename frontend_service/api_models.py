"""The JSON API's response bodies, as pydantic models: the handlers build them and
the OpenAPI document describes them, so the two cannot drift apart."""

from __future__ import annotations

from pydantic import BaseModel, Field

from infra.domain.book import BookBible
from infra.domain.plan import Plan
from infra.domain.render import RenderState
from infra.domain.scene import Question, SceneState
from infra.domain.storyboard import FieldError, Storyboard

#: The longest a status request waits for a change: under Cloud Run's and any proxy's idle
#: limits, and short enough that a worker thread held by a wait comes back soon.
MAX_STATUS_WAIT_S = 20


class SessionOut(BaseModel):
    user: str
    csrf_token: str
    #: Signed in (an account) rather than anonymous; an admin sees the reports and moderation.
    account: bool = False
    admin: bool = False


class SceneOut(BaseModel):
    id: str
    state: SceneState
    questions: list[Question]
    storyboard: Storyboard | None
    engine: str
    notice: str | None = None
    #: Goes up with every change; the ETag of GET /api/scenes/<id>, for If-Match on a save.
    version: int = 0


class StoryboardOut(BaseModel):
    storyboard: Storyboard
    #: The scene's version after this save (also the response's ETag).
    version: int


class RenderStarted(BaseModel):
    render_id: str
    #: The preset the render got: the one asked for, or the fastest when the queue is long.
    preset: str
    #: Set when the render got a faster preset than the one asked for (see notice).
    requested_preset: str | None = None
    notice: str | None = None


class RenderOut(BaseModel):
    id: str
    scene_id: str | None
    title: str
    state: RenderState
    progress: float
    stage: str | None
    preset: str
    #: The frame: its shape and its size in pixels.
    aspect: str
    width: int
    height: int
    created_at: str
    #: Why it failed, as stored: English and technical (for the logs and whoever runs the site);
    #: while a render is queued again after a failed attempt, that attempt's note.
    error: str | None = None
    #: Once failed, why, as a person reads it: one sentence in their language, saying what to do.
    error_message: str | None = None
    #: The preset asked for, when a long queue gave the render a faster one.
    requested_preset: str | None = None
    #: While unfinished: how many renders start before this one (0: next, or started).
    queue_position: int | None = None
    #: While unfinished, once render times have been measured: when it should start and
    #: finish (ISO 8601, UTC), from the typical render time and the renders made at once.
    estimated_start: str | None = None
    estimated_finish: str | None = None
    video_url: str | None = None
    poster_url: str | None = None
    preview_url: str | None = None
    download_url: str | None = None
    #: The book's words on screen, when its shots have any: WebVTT for a <track>, its
    #: language (BCP 47, for srclang), and the clip with them burned in.
    subtitles_url: str | None = None
    subtitles_language: str | None = None
    download_subtitled_url: str | None = None
    duration_s: float | None = None


class StatusWait(BaseModel):
    """GET /api/renders/<id>?wait=N with If-None-Match: the status's ETag from before. The
    answer comes once the status differs from it, or after N seconds with 304 Not Modified
    (frontend_service.blueprints.api says how long a wait may be, and when it is not taken)."""

    wait: int = Field(default=0, ge=0, le=MAX_STATUS_WAIT_S, description="seconds to wait for a change")


class RenderList(BaseModel):
    items: list[RenderOut]


class TokenCounts(BaseModel):
    counts: list[int]
    limit: int
    method: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldError] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


class GalleryItem(BaseModel):
    render_id: str
    title: str
    book: str | None
    author: str | None
    style: str
    aspect: str
    owner: str
    created: str
    score: int
    votes: int
    poster_url: str
    video_url: str
    preview_url: str


class GalleryPage(BaseModel):
    items: list[GalleryItem]
    next_page: int | None


class PublicationOut(BaseModel):
    render_id: str
    published: bool
    listed: bool
    score: int
    up: int
    down: int
    votes: int
    remixes: int
    my_vote: int
    gallery_url: str
    #: Out of the gallery by moderation: held for an admin after reports, or hidden by one.
    held: bool = False
    hidden: bool = False
    #: The owner's one appeal, while an admin has yet to answer it.
    appeal_open: bool = False


class RemixOut(BaseModel):
    scene_id: str


class ReportOut(BaseModel):
    user_id: str
    reason: str | None
    created_at: str


class ReviewItemOut(BaseModel):
    render_id: str
    title: str
    owner_id: str
    owner: str
    owner_publishing_blocked: bool
    reports: int
    open_reports: int
    held: bool
    hidden: bool
    appeal: str | None
    appeal_open: bool
    report_list: list[ReportOut]
    gallery_url: str


class ModerationPage(BaseModel):
    items: list[ReviewItemOut]
    #: The accounts an admin has stopped from publishing.
    blocked: list[str]


class PlanAccountOut(BaseModel):
    user_id: str
    email: str | None = None
    #: None: the free plan.
    plan: str | None = None


class PlansPage(BaseModel):
    #: The free plan first (from the settings), then the stored plans by name.
    plans: list[Plan]
    #: The accounts on a plan other than the free one.
    accounts: list[PlanAccountOut]


class BlockOut(BaseModel):
    user_id: str
    publishing_blocked: bool


class BookSceneOut(BaseModel):
    """One scene of a book in its place: its chapter, where its dialogue stands, its latest clip."""

    scene_id: str
    chapter: str
    text: str
    state: str
    #: The scene's latest render's state and id (None when it has none yet).
    clip_state: str | None = None
    clip_id: str | None = None


class BookOut(BaseModel):
    id: str
    title: str
    author: str
    aspect: str
    bible: BookBible
    seed_policy: str
    seed: int
    chapters: list[BookSceneOut]
    version: int
    #: The book's latest reel (a render: its status at /api/renders/<id>), when there is one.
    reel_id: str | None = None
    reel_state: str | None = None


class BookList(BaseModel):
    items: list[BookOut]
