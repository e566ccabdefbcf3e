"""The JSON API. The site's pages use it too, and a script can drive the whole flow:

GET  /api/session                      -> {user, csrf_token}; every change sends X-CSRFToken
POST /api/scenes                       -> 201 scene: questions, or the storyboard
POST /api/scenes/<id>/answers          -> scene
POST /api/scenes/<id>/finish           -> scene with its storyboard
PUT  /api/scenes/<id>/storyboard       -> 200 storyboard, or 422 with per-field errors
POST /api/scenes/<id>/renders {preset?, keep_preset?} -> 202 {render_id, preset, requested_preset?, notice?}
GET  /api/renders/<id>                 -> status, queue position and estimates, aspect and size, then video_url,
                                          poster_url, download_url and, with quotes, subtitles_url,
                                          subtitles_language, download_subtitled_url
POST /api/renders/<id>/cancel          -> the render, cancelled (409 once it has finished); its quota goes back
DELETE /api/renders/<id>               -> 204; the clip's files and gallery entry go too
POST|DELETE /api/renders/<id>/publish  -> publication (owner only)
GET  /api/gallery?sort=&book=&author=&style=&page=  -> {items, next_page}
PUT  /api/renders/<id>/vote {value}    -> publication; POST .../remix -> 201 {scene_id}; POST .../report {reason?}
POST /api/renders/<id>/appeal {note}   -> publication (the owner of a held or hidden clip, once)
/api/moderation...                     -> the admins' moderation (blueprints/moderation.py)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from frontend_service import services
from frontend_service.api_models import (
    GalleryItem,
    GalleryPage,
    PublicationOut,
    RemixOut,
    RenderList,
    RenderOut,
    RenderStarted,
    SceneOut,
    SessionOut,
    StoryboardOut,
    TokenCounts,
)
from frontend_service.blueprints.errors import ApiError
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
from frontend_service.identity import current_person, current_user
from frontend_service.middleware.security import limiter
from frontend_service.openapi import openapi_document
from infra.domain.ids import now
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter
from infra.domain.publication import Publication
from infra.domain.render import Render
from infra.domain.scene import Scene

bp = Blueprint("api", __name__, url_prefix="/api")


Model = TypeVar("Model", bound=BaseModel)


def _flow() -> SceneFlow:
    return services.scene_flow()


def _json_object(
    message: str = "Send a JSON object in the request body (Content-Type: application/json).",
    optional: bool = False,
) -> dict:
    """The request's JSON object; where it is optional, no body at all means {}."""
    body = request.get_data(cache=True)
    if request.content_length is None and len(body) >= current_app.config["MAX_CONTENT_LENGTH"]:
        raise RequestEntityTooLarge()  # a body of unknown length is read up to the limit and no further
    if optional and not body:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", message)
    return data


def _body(model: type[Model], optional: bool = False) -> Model:
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
    )
    return out.model_dump(mode="json")  # storyboard: null is part of the answer


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
        requested_preset=render.requested_preset,
    )
    standing = _flow().admission.standing(render, now())
    if standing is not None:
        out.queue_position = standing.position
        out.estimated_start = standing.start.isoformat() if standing.start else None
        out.estimated_finish = standing.finish.isoformat() if standing.finish else None
    if render.state == "succeeded":
        out.video_url = url_for("renders.file", render_id=render.id, name="video")
        out.poster_url = url_for("renders.file", render_id=render.id, name="poster")
        out.preview_url = url_for("renders.file", render_id=render.id, name="preview")
        out.download_url = url_for("renders.download", render_id=render.id)
        out.duration_s = render.spec.duration_s
        if "subtitles" in render.artifacts:
            out.subtitles_url = url_for("renders.file", render_id=render.id, name="subtitles")
            out.subtitles_language = subtitles_language(render)
        if "subtitled" in render.artifacts:
            out.download_subtitled_url = url_for("renders.download", render_id=render.id, subtitles="burned")
    return out


@bp.get("/session")
def session_info():
    person = current_person()
    out = SessionOut(user=person.user_id, csrf_token=generate_csrf(), account=person.account, admin=person.admin)
    return out.model_dump(mode="json")


@bp.post("/scenes")
@limiter.limit(_dialogue_limit)
def create_scene():
    scene = _flow().create_scene(current_user(), _body(NewScene))
    return scene_json(scene), 201


@bp.get("/scenes/<scene_id>")
def get_scene(scene_id: str):
    return scene_json(_flow().scene(current_user(), scene_id))


@bp.post("/scenes/<scene_id>/answers")
@limiter.limit(_dialogue_limit)
def answer(scene_id: str):
    return scene_json(_flow().answer(current_user(), scene_id, _body(Answers)))


@bp.post("/scenes/<scene_id>/finish")
@limiter.limit(_dialogue_limit)
def finish(scene_id: str):
    return scene_json(_flow().finish(current_user(), scene_id))


@bp.put("/scenes/<scene_id>/storyboard")
def save_storyboard(scene_id: str):
    data = _json_object("Send the storyboard as a JSON object.")
    storyboard = _flow().save_storyboard(current_user(), scene_id, data)
    return _json(StoryboardOut(storyboard=storyboard))


@bp.post("/scenes/<scene_id>/renders")
@limiter.limit(_render_limit)
def start_render(scene_id: str):
    render = _flow().start_render(current_person(), scene_id, _body(RenderRequest, optional=True))
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


@bp.get("/renders/<render_id>")
def get_render(render_id: str):
    return _json(render_out(_flow().render(current_user(), render_id)))


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
    publish_request = _body(PublishRequest, optional=True)
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
    value = _body(VoteRequest).vote
    return _json(publication_out(_gallery().vote(current_person(), render_id, value)))


@bp.post("/renders/<render_id>/remix")
@limiter.limit(_dialogue_limit)
def remix(render_id: str):
    return _json(RemixOut(scene_id=_gallery().remix(current_user(), render_id).id)), 201


@bp.post("/renders/<render_id>/report")
@limiter.limit(_report_limit)
def report(render_id: str):
    report_request = _body(ReportRequest, optional=True)
    return _json(publication_out(_gallery().report(current_person(), render_id, report_request)))


@bp.post("/renders/<render_id>/appeal")
@limiter.limit(_report_limit)
def appeal(render_id: str):
    return _json(publication_out(_gallery().appeal(current_person(), render_id, _body(AppealRequest))))


@bp.post("/prompt-tokens")
def prompt_tokens():
    """Estimated CLIP tokens per text, for the storyboard editor's live counter."""
    counter = EstimatedTokenCounter()
    texts = _body(PromptTexts).texts
    return _json(TokenCounts(counts=[counter(text) for text in texts], limit=MAX_PROMPT_TOKENS, method=counter.method))


@bp.get("/openapi.json")
def openapi():
    return openapi_document()
