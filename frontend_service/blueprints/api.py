"""The JSON API. The site's pages use it too, and a script can drive the whole flow:

GET  /api/session                      -> {user, csrf_token}; every change sends X-CSRFToken
POST /api/scenes                       -> 201 scene: questions, or the storyboard
POST /api/scenes/<id>/answers          -> scene
POST /api/scenes/<id>/finish           -> scene with its storyboard
GET  /api/scenes/<id>                  -> scene, with its version as the ETag
PUT  /api/scenes/<id>/storyboard       -> 200 storyboard, or 422 with per-field errors; If-Match: 409 when stale
POST /api/scenes/<id>/renders {preset?, keep_preset?, seed?} -> 202 {render_id, preset, requested_preset?, notice?}
     (POST /api/scenes and this one take an Idempotency-Key header: a repeat gets the first answer)
GET  /api/renders/<id>                 -> status, queue position and estimates, aspect and size, then video_url,
                                          poster_url, download_url and, with quotes, subtitles_url,
                                          subtitles_language, download_subtitled_url;
                                          an ETag: 304 to If-None-Match while unchanged (?wait=N: a long poll)
POST /api/renders/<id>/cancel          -> the render, cancelled (409 once it has finished); its quota goes back
DELETE /api/renders/<id>               -> 204; the clip's files and gallery entry go too
POST|DELETE /api/renders/<id>/publish  -> publication (owner only)
GET  /api/gallery?sort=&q=&book=&author=&style=&page=  -> {items, next_page}
PUT  /api/renders/<id>/vote {value}    -> publication; POST .../remix -> 201 {scene_id}; POST .../report {reason?}
POST /api/renders/<id>/appeal {note}   -> publication (the owner of a held or hidden clip, once)
/api/moderation...                     -> the admins' moderation (blueprints/moderation.py)
POST /api/books {title, author?, aspect?, bible?, seed_policy?, seed?} -> 201 book; GET /api/books -> {items}
GET|PATCH /api/books/<id>              -> the book with its scenes in order; PATCH changes what it sends
                                          (chapters: the whole new order of the book's own scenes)
POST /api/books/<id>/scenes {text, chapter?, passage?} -> 201 scene, last in the book, in the book's look
POST /api/books/<id>/reel              -> 202 {render_id}: the reel, a render (409 until every scene's clip is ready;
                                          the one still being made, if any)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from time import monotonic, sleep
from typing import TypeVar

from flask import Blueprint, Response, current_app, jsonify, make_response, request, url_for
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from frontend_service import services
from frontend_service.api_models import (
    BookList,
    BookOut,
    BookSceneOut,
    GalleryItem,
    GalleryPage,
    PublicationOut,
    RemixOut,
    RenderList,
    RenderOut,
    RenderStarted,
    SceneOut,
    SessionOut,
    StatusWait,
    StoryboardOut,
    TokenCounts,
)
from frontend_service.blueprints.errors import ApiError
from frontend_service.book_flow import BookChanges, BookFlow, NewBook, NewBookScene
from frontend_service.dialogue.language import language_of
from frontend_service.flow import Answers, NewScene, PromptTexts, RenderRequest, SceneFlow
from frontend_service.gallery_flow import (
    AppealRequest,
    GalleryFlow,
    GalleryQuery,
    PublishRequest,
    ReportRequest,
    VoteRequest,
)
from frontend_service.idempotency import idempotent
from frontend_service.identity import current_person, current_user
from frontend_service.middleware.security import limiter
from frontend_service.openapi import openapi_document
from infra.domain import failures
from infra.domain.book import Book
from infra.domain.ids import now
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter
from infra.domain.publication import Publication
from infra.domain.render import Render
from infra.domain.scene import Scene

bp = Blueprint("api", __name__, url_prefix="/api")


Model = TypeVar("Model", bound=BaseModel)


def _flow() -> SceneFlow:
    return services.scene_flow()


def _json_object(message: str | None = None, optional: bool = False) -> dict:
    """The request's JSON object; where it is optional, no body at all means {}."""
    body = request.get_data(cache=True)
    if request.content_length is None and len(body) >= current_app.config["MAX_CONTENT_LENGTH"]:
        raise RequestEntityTooLarge()  # a body of unknown length is read up to the limit and no further
    if optional and not body:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        message = message or gettext("Send a JSON object in the request body (Content-Type: application/json).")
        raise ApiError(400, "invalid_json", message)
    return data


def json_body(model: type[Model], optional: bool = False) -> Model:
    return model.model_validate(_json_object(optional=optional))


def _gallery() -> GalleryFlow:
    return services.gallery_flow()


def _configured_limit(name: str) -> Callable[[], str]:
    """A rate limit read from the app's config at request time (tests change it)."""
    return lambda: current_app.config[name]


_dialogue_limit = _configured_limit("DIALOGUE_RATE_LIMIT")
_render_limit = _configured_limit("RENDER_RATE_LIMIT")
_vote_limit = _configured_limit("VOTE_RATE_LIMIT")
_report_limit = _configured_limit("REPORT_RATE_LIMIT")


def _json(model: BaseModel) -> dict:
    return model.model_dump(mode="json", exclude_none=True)


def scene_json(scene: Scene) -> dict:
    out = SceneOut(
        id=scene.id,
        state=scene.state,
        questions=scene.questions,
        storyboard=scene.storyboard,
        engine=scene.engine,
        notice=scene.notice,
        version=scene.version,
    )
    return out.model_dump(mode="json")  # storyboard: null is part of the answer


def scene_etag(scene: Scene) -> str:
    return str(scene.version)


VERSION_DIGITS = 18


def _if_match_versions() -> set[int] | None:
    """The versions an If-Match header names; None when it names none in particular (absent, or *)."""
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return None
    # A version is a count of saves: more digits than that can hold is no version of anything
    # (and past 4,300 digits int() refuses it).
    versions = {
        int(tag) for tag in if_match.as_set() if tag and tag.isascii() and tag.isdigit() and len(tag) <= VERSION_DIGITS
    }
    if not versions:
        raise ApiError(
            400, "invalid_if_match", gettext('Send If-Match with the ETag from GET /api/scenes/<id>, such as "3".')
        )
    return versions


def gallery_item(publication: Publication) -> GalleryItem:
    def file(name: str) -> str:
        return url_for("renders.file", render_id=publication.render_id, name=name)

    return GalleryItem(
        render_id=publication.render_id,
        title=publication.title,
        book=publication.book,
        author=publication.author,
        style=publication.style,
        aspect=publication.aspect,
        owner=publication.owner,
        created=publication.published_at.isoformat(),
        score=publication.score,
        votes=publication.votes,
        poster_url=file("poster"),
        video_url=file("video"),
        preview_url=file("preview"),
    )


def publication_out(publication: Publication) -> PublicationOut:
    return PublicationOut(
        render_id=publication.render_id,
        published=publication.published,
        listed=publication.listed,
        score=publication.score,
        up=publication.up,
        down=publication.down,
        votes=publication.votes,
        remixes=publication.remixes,
        my_vote=_gallery().my_vote(current_user(), publication.render_id),
        gallery_url=url_for("gallery.clip", render_id=publication.render_id),
        held=publication.held,
        hidden=publication.hidden,
        appeal_open=publication.appeal_open,
    )


def subtitles_language(render: Render) -> str:
    """The language of a clip's words on screen: the book's, as its quotes are written."""
    return language_of(" ".join(shot.quote or "" for shot in render.spec.storyboard.shots))


def render_out(render: Render) -> RenderOut:
    out = RenderOut(
        id=render.id,
        scene_id=render.scene_id,
        title=render.spec.storyboard.title,
        state=render.state,
        progress=round(render.progress, 3),
        stage=render.stage,
        preset=render.spec.preset,
        aspect=render.spec.storyboard.aspect,
        width=render.spec.width,
        height=render.spec.height,
        created_at=render.created_at.isoformat(),
        error=render.error,
        # `error` also holds a retried render's last note: only a failed render is told why.
        error_message=failures.person_message(render.error, gettext) if render.state == "failed" else None,
        requested_preset=render.requested_preset,
    )
    standing = _flow().admission.standing(render, now())
    if standing is not None:
        out.queue_position = standing.position
        out.estimated_start = standing.start.isoformat() if standing.start else None
        out.estimated_finish = standing.finish.isoformat() if standing.finish else None
    if render.state == "succeeded":
        urls = _clip_urls(request.script_root, render.id)
        out.video_url, out.poster_url, out.preview_url, out.download_url = urls[:4]
        out.duration_s = render.spec.duration_s
        if "subtitles" in render.artifacts:
            out.subtitles_url = urls[4]
            out.subtitles_language = subtitles_language(render)
        if "subtitled" in render.artifacts:
            out.download_subtitled_url = urls[5]
    return out


@lru_cache(maxsize=4096)
def _clip_urls(script_root: str, render_id: str) -> tuple[str, ...]:
    """A finished clip's URLs: video, poster, preview, download, subtitles, subtitled download.
    They depend on the render and where the site is mounted alone, and building them was a
    tenth of a status request (url_for, six times), so each render's are built once per process."""
    return (
        url_for("renders.file", render_id=render_id, name="video"),
        url_for("renders.file", render_id=render_id, name="poster"),
        url_for("renders.file", render_id=render_id, name="preview"),
        url_for("renders.download", render_id=render_id),
        url_for("renders.file", render_id=render_id, name="subtitles"),
        url_for("renders.download", render_id=render_id, subtitles="burned"),
    )


@bp.get("/session")
def session_info():
    person = current_person()
    out = SessionOut(user=person.user_id, csrf_token=generate_csrf(), account=person.account, admin=person.admin)
    return out.model_dump(mode="json")


@bp.post("/scenes")
@limiter.limit(_dialogue_limit)
@idempotent
def create_scene():
    scene = _flow().create_scene(current_user(), json_body(NewScene))
    return scene_json(scene), 201


@bp.get("/scenes/<scene_id>")
def get_scene(scene_id: str):
    scene = _flow().scene(current_user(), scene_id)
    response = make_response(scene_json(scene))
    response.set_etag(scene_etag(scene))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/scenes/<scene_id>/answers")
@limiter.limit(_dialogue_limit)
def answer(scene_id: str):
    return scene_json(_flow().answer(current_user(), scene_id, json_body(Answers)))


@bp.post("/scenes/<scene_id>/finish")
@limiter.limit(_dialogue_limit)
def finish(scene_id: str):
    return scene_json(_flow().finish(current_user(), scene_id))


@bp.put("/scenes/<scene_id>/storyboard")
def save_storyboard(scene_id: str):
    versions = _if_match_versions()
    data = _json_object(gettext("Send the storyboard as a JSON object."))
    scene = _flow().save_storyboard(current_user(), scene_id, data, versions)
    assert scene.storyboard is not None  # just saved
    response = make_response(_json(StoryboardOut(storyboard=scene.storyboard, version=scene.version)))
    response.set_etag(scene_etag(scene))
    return response


@bp.post("/scenes/<scene_id>/renders")
@limiter.limit(_render_limit)
@idempotent
def start_render(scene_id: str):
    render = _flow().start_render(current_person(), scene_id, json_body(RenderRequest, optional=True))
    started = RenderStarted(render_id=render.id, preset=render.spec.preset, requested_preset=render.requested_preset)
    if render.requested_preset:
        started.notice = faster_preset_notice(render.spec.preset, render.requested_preset)
    return _json(started), 202


def faster_preset_notice(preset: str, requested: str) -> str:
    return gettext(
        "The queue is long right now, so this render uses the %(preset)s preset to be ready sooner. "
        "To wait for %(requested)s instead, start it again with keep_preset.",
        preset=preset,
        requested=requested,
    )


#: Status requests one process lets wait for a change at once. A wait holds one of gunicorn's
#: threads (gthread: 2 workers x 4 threads, frontend_service/gunicorn_conf.py), so half of
#: them at most; past that the answer comes at once and the page asks again a second later,
#: as it did before waits (304 while unchanged).
MAX_WAITING = 2
#: How often a waiting request reads the render again (the record, from any process).
WAIT_CHECK_S = 0.5
_waiting = threading.BoundedSemaphore(MAX_WAITING)


@bp.get("/renders/<render_id>")
def get_render(render_id: str):
    """The render's status with an ETag. With If-None-Match naming the status the page has,
    and ?wait=N, the answer waits up to N seconds for the status to change (a long poll):
    the page learns of a change within half a second and asks about once every N seconds,
    not every second."""
    wait = StatusWait.model_validate(request.args.to_dict()).wait
    user = current_user()
    response, etag = _status(render_id, user)
    if wait and etag in request.if_none_match and _waiting.acquire(blocking=False):
        try:
            deadline = monotonic() + wait
            while etag in request.if_none_match and monotonic() < deadline:
                sleep(min(WAIT_CHECK_S, max(0.0, deadline - monotonic())))
                response, etag = _status(render_id, user)
        finally:
            _waiting.release()
    return response.make_conditional(request)


def _status(render_id: str, user: str) -> tuple[Response, str]:
    """The status as JSON, and its ETag (a hash of those bytes)."""
    response = jsonify(_json(render_out(_flow().render(user, render_id))))
    response.add_etag()
    return response, response.get_etag()[0] or ""


@bp.post("/renders/<render_id>/cancel")
def cancel_render(render_id: str):
    return _json(render_out(_flow().cancel_render(current_person(), render_id)))


@bp.get("/renders")
def list_renders():
    adapters = services.adapters()
    return _json(RenderList(items=[render_out(render) for render in adapters.records.list_renders(current_user())]))


@bp.delete("/renders/<render_id>")
def delete_render(render_id: str):
    _gallery().delete(current_user(), render_id)
    return "", 204


@bp.post("/renders/<render_id>/publish")
def publish(render_id: str):
    publish_request = json_body(PublishRequest, optional=True)
    return _json(publication_out(_gallery().publish(current_person(), render_id, publish_request)))


@bp.delete("/renders/<render_id>/publish")
def unpublish(render_id: str):
    return _json(publication_out(_gallery().unpublish(current_user(), render_id)))


@bp.get("/gallery")
def gallery_page():
    query = GalleryQuery.model_validate(request.args.to_dict())
    items, more = _gallery().page(query.sort, query.where(), query.page)
    page = GalleryPage(items=[gallery_item(p) for p in items], next_page=query.page + 1 if more else None)
    return page.model_dump(mode="json")  # every key, null included: the shape a card reader expects


@bp.put("/renders/<render_id>/vote")
@limiter.limit(_vote_limit)
def vote(render_id: str):
    value = json_body(VoteRequest).vote
    return _json(publication_out(_gallery().vote(current_person(), render_id, value)))


@bp.post("/renders/<render_id>/remix")
@limiter.limit(_dialogue_limit)
def remix(render_id: str):
    scene = _gallery().remix(current_user(), render_id, title=lambda title: gettext("Remix of %(title)s", title=title))
    return _json(RemixOut(scene_id=scene.id)), 201


@bp.post("/renders/<render_id>/report")
@limiter.limit(_report_limit)
def report(render_id: str):
    report_request = json_body(ReportRequest, optional=True)
    return _json(publication_out(_gallery().report(current_person(), render_id, report_request)))


@bp.post("/renders/<render_id>/appeal")
@limiter.limit(_report_limit)
def appeal(render_id: str):
    return _json(publication_out(_gallery().appeal(current_person(), render_id, json_body(AppealRequest))))


def _books() -> BookFlow:
    return services.book_flow()


def book_out(book: Book) -> BookOut:
    flow = _books()
    clips, reel = flow.latest(book)
    chapters = []
    for chapter, scene in zip(book.chapters, flow.scenes(book), strict=True):
        clip = clips.get(chapter.scene_id)
        chapters.append(
            BookSceneOut(
                scene_id=chapter.scene_id,
                chapter=chapter.chapter,
                text=scene.text if scene else "",
                state=scene.state if scene else "missing",
                clip_state=clip.state if clip else None,
                clip_id=clip.id if clip else None,
            )
        )
    return BookOut(
        id=book.id,
        title=book.title,
        author=book.author,
        aspect=book.aspect,
        bible=book.bible,
        seed_policy=book.seed_policy,
        seed=book.seed,
        chapters=chapters,
        version=book.version,
        reel_id=reel.id if reel else None,
        reel_state=reel.state if reel else None,
    )


@bp.post("/books")
def create_book():
    return _json(book_out(_books().create(current_user(), json_body(NewBook)))), 201


@bp.get("/books")
def list_books():
    return _json(BookList(items=[book_out(book) for book in _books().books(current_user())]))


@bp.get("/books/<book_id>")
def get_book(book_id: str):
    return _json(book_out(_books().book(current_user(), book_id)))


@bp.patch("/books/<book_id>")
def change_book(book_id: str):
    return _json(book_out(_books().change(current_user(), book_id, json_body(BookChanges))))


@bp.post("/books/<book_id>/scenes")
@limiter.limit(_dialogue_limit)
def add_book_scene(book_id: str):
    return scene_json(_books().add_scene(current_user(), book_id, json_body(NewBookScene))), 201


@bp.post("/books/<book_id>/reel")
@limiter.limit(_render_limit)
def start_reel(book_id: str):
    render = _books().start_reel(current_person(), book_id)
    return _json(RenderStarted(render_id=render.id, preset=render.spec.preset)), 202


@bp.post("/prompt-tokens")
def prompt_tokens():
    """Estimated CLIP tokens per text, for the storyboard editor's live counter."""
    counter = EstimatedTokenCounter()
    texts = json_body(PromptTexts).texts
    return _json(TokenCounts(counts=[counter(text) for text in texts], limit=MAX_PROMPT_TOKENS, method=counter.method))


@bp.get("/openapi.json")
def openapi():
    return openapi_document()
