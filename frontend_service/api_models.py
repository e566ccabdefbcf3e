"""The JSON API's response bodies, as pydantic models: the handlers build them and
the OpenAPI document describes them, so the two cannot drift apart."""

from __future__ import annotations

from pydantic import BaseModel

from infra.contract import FieldError, Storyboard
from infra.records import Question, RenderState, SceneState


class SessionOut(BaseModel):
    user: str
    csrf_token: str


class SceneOut(BaseModel):
    id: str
    state: SceneState
    questions: list[Question]
    storyboard: Storyboard | None
    engine: str
    notice: str | None = None


class StoryboardOut(BaseModel):
    storyboard: Storyboard


class RenderStarted(BaseModel):
    render_id: str


class RenderOut(BaseModel):
    id: str
    scene_id: str | None
    title: str
    state: RenderState
    progress: float
    stage: str | None
    preset: str
    created_at: str
    error: str | None = None
    video_url: str | None = None
    poster_url: str | None = None
    preview_url: str | None = None
    download_url: str | None = None
    duration_s: float | None = None


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
