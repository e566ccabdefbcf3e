"""The JSON API. The site's pages use it too, and a script can drive the whole flow:

GET  /api/session                      -> {user, csrf_token}; every change sends X-CSRFToken
POST /api/scenes                       -> 201 scene: questions, or the storyboard
POST /api/scenes/<id>/answers          -> scene
POST /api/scenes/<id>/finish           -> scene with its storyboard
PUT  /api/scenes/<id>/storyboard       -> 200 storyboard, or 422 with per-field errors
POST /api/scenes/<id>/renders          -> 202 {render_id}
GET  /api/renders/<id>                 -> status, then video_url, poster_url, download_url
"""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, current_app, request, url_for
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel

from frontend_service.api_models import (
    RenderList,
    RenderOut,
    RenderStarted,
    SceneOut,
    SessionOut,
    StoryboardOut,
    TokenCounts,
)
from frontend_service.errors import ApiError
from frontend_service.flow import Answers, NewScene, PromptTexts, RenderRequest, SceneFlow
from frontend_service.middleware.security import limiter
from frontend_service.openapi import openapi_document
from frontend_service.users import current_user
from infra.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter
from infra.records import Render, Scene

bp = Blueprint("api", __name__, url_prefix="/api")
Model = TypeVar("Model", bound=BaseModel)


def _flow() -> SceneFlow:
    return current_app.extensions["flow"]


def _json_object(message: str = "Send a JSON object in the request body (Content-Type: application/json).") -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", message)
    return data


def _body(model: type[Model]) -> Model:
    return model.model_validate(_json_object())


def _dialogue_limit() -> str:
    return current_app.config["DIALOGUE_RATE_LIMIT"]


def _render_limit() -> str:
    return current_app.config["RENDER_RATE_LIMIT"]


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


def render_out(render: Render) -> RenderOut:
    out = RenderOut(
        id=render.id,
        scene_id=render.scene_id,
        title=render.spec.storyboard.title,
        state=render.state,
        progress=round(render.progress, 3),
        stage=render.stage,
        preset=render.spec.preset,
        created_at=render.created_at.isoformat(),
        error=render.error,
    )
    if render.state == "succeeded":
        out.video_url = url_for("renders.file", render_id=render.id, name="video")
        out.poster_url = url_for("renders.file", render_id=render.id, name="poster")
        out.preview_url = url_for("renders.file", render_id=render.id, name="preview")
        out.download_url = url_for("renders.download", render_id=render.id)
        out.duration_s = render.spec.duration_s
    return out


@bp.get("/session")
def session_info():
    return _json(SessionOut(user=current_user(), csrf_token=generate_csrf()))


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
    data = request.get_json(silent=True)
    request_model = RenderRequest.model_validate(data if isinstance(data, dict) else {})
    render = _flow().start_render(current_user(), scene_id, request_model)
    return _json(RenderStarted(render_id=render.id)), 202


@bp.get("/renders/<render_id>")
def get_render(render_id: str):
    return _json(render_out(_flow().render(current_user(), render_id)))


@bp.get("/renders")
def list_renders():
    adapters = current_app.extensions["adapters"]
    return _json(RenderList(items=[render_out(render) for render in adapters.records.list_renders(current_user())]))


@bp.post("/prompt-tokens")
def prompt_tokens():
    """Estimated CLIP tokens per text, for the storyboard editor's live counter."""
    counter = EstimatedTokenCounter()
    texts = _body(PromptTexts).texts
    return _json(TokenCounts(counts=[counter(text) for text in texts], limit=MAX_PROMPT_TOKENS, method=counter.method))


@bp.get("/openapi.json")
def openapi():
    return openapi_document()
