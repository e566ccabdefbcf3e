"""The OpenAPI 3.1 document of the JSON API, built from the same pydantic models the
handlers use. OPERATIONS lists every route under /api; a test holds it to the app's
URL map, so an undocumented route fails the build."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from frontend_service.api_models import (
    BlockOut,
    BookList,
    BookOut,
    ErrorOut,
    GalleryPage,
    ModerationPage,
    PlanAccountOut,
    PlansPage,
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
from frontend_service.book_flow import BookChanges, NewBook, NewBookScene
from frontend_service.flow import Answers, NewScene, PromptTexts, RenderRequest
from frontend_service.gallery_flow import AppealRequest, GalleryQuery, PublishRequest, ReportRequest, VoteRequest
from frontend_service.plans_flow import PlanChoice, PlanTerms
from infra.domain.plan import Plan
from infra.domain.storyboard import Storyboard

# (method, path, summary, request body, {status: response body}); errors are added below.
# A GET's request model is its query string; a None response has no body.
OPERATIONS: list[tuple[str, str, str, type[BaseModel] | None, dict[int, type[BaseModel] | None]]] = [
    ("get", "/api/session", "The session's user and its CSRF token", None, {200: SessionOut}),
    ("post", "/api/scenes", "Write a scene; the dialogue asks or drafts", NewScene, {201: SceneOut}),
    ("get", "/api/scenes/{scene_id}", "A scene and where its dialogue stands", None, {200: SceneOut}),
    ("post", "/api/scenes/{scene_id}/answers", "Answer the questions", Answers, {200: SceneOut}),
    ("post", "/api/scenes/{scene_id}/finish", "Skip the questions: make the storyboard", None, {200: SceneOut}),
    ("put", "/api/scenes/{scene_id}/storyboard", "Store an edited storyboard", Storyboard, {200: StoryboardOut}),
    ("post", "/api/scenes/{scene_id}/renders", "Render the storyboard", RenderRequest, {202: RenderStarted}),
    ("get", "/api/renders", "The session's renders, newest first", None, {200: RenderList}),
    (
        "get",
        "/api/renders/{render_id}",
        "A render's status and, when done, its files; with If-None-Match, 304 while unchanged",
        StatusWait,
        {200: RenderOut, 304: None},
    ),
    ("delete", "/api/renders/{render_id}", "Delete a finished render and its files (owner)", None, {204: None}),
    (
        "post",
        "/api/renders/{render_id}/cancel",
        "Cancel a queued or running render; its quota goes back (owner)",
        None,
        {200: RenderOut},
    ),
    (
        "post",
        "/api/renders/{render_id}/publish",
        "Publish a clip to the gallery (owner)",
        PublishRequest,
        {200: PublicationOut},
    ),
    (
        "delete",
        "/api/renders/{render_id}/publish",
        "Take a clip out of the gallery (owner)",
        None,
        {200: PublicationOut},
    ),
    ("get", "/api/gallery", "Published clips, a page at a time", GalleryQuery, {200: GalleryPage}),
    (
        "put",
        "/api/renders/{render_id}/vote",
        "Vote on a clip: 1, -1, or 0 to take it back",
        VoteRequest,
        {200: PublicationOut},
    ),
    (
        "post",
        "/api/renders/{render_id}/remix",
        "Copy a clip's storyboard into a new scene of yours",
        None,
        {201: RemixOut},
    ),
    (
        "post",
        "/api/renders/{render_id}/report",
        "Report a clip (accounts; once each); enough reports hold it for an admin",
        ReportRequest,
        {200: PublicationOut},
    ),
    (
        "post",
        "/api/renders/{render_id}/appeal",
        "Appeal once against a clip held or hidden by moderation (owner)",
        AppealRequest,
        {200: PublicationOut},
    ),
    ("get", "/api/moderation", "Reported clips, appeals and blocked accounts (admins)", None, {200: ModerationPage}),
    (
        "post",
        "/api/moderation/{render_id}/clear",
        "Put a reported clip back in the gallery (admins)",
        None,
        {200: PublicationOut},
    ),
    ("post", "/api/moderation/{render_id}/hide", "Hide a clip from the gallery (admins)", None, {200: PublicationOut}),
    ("delete", "/api/moderation/{render_id}", "Delete a clip, its files and its render (admins)", None, {204: None}),
    (
        "put",
        "/api/moderation/accounts/{user_id}/publishing-block",
        "Stop an account from publishing (admins)",
        None,
        {200: BlockOut},
    ),
    (
        "delete",
        "/api/moderation/accounts/{user_id}/publishing-block",
        "Let an account publish again (admins)",
        None,
        {200: BlockOut},
    ),
    ("get", "/api/plans", "The plans and the accounts on them (admins)", None, {200: PlansPage}),
    ("put", "/api/plans/{name}", "Store a plan: its clip lengths and renders a day (admins)", PlanTerms, {200: Plan}),
    (
        "put",
        "/api/plans/accounts/{user_id}",
        "Put an account on a plan, or back on the free plan (admins)",
        PlanChoice,
        {200: PlanAccountOut},
    ),
    ("post", "/api/books", "Start a book: several scenes with one cast and look", NewBook, {201: BookOut}),
    ("get", "/api/books", "The session's books, the latest changed first", None, {200: BookList}),
    ("get", "/api/books/{book_id}", "A book and its scenes in order", None, {200: BookOut}),
    (
        "patch",
        "/api/books/{book_id}",
        "Change a book, its bible or the order of its scenes",
        BookChanges,
        {200: BookOut},
    ),
    ("post", "/api/books/{book_id}/scenes", "Write a scene of the book, in its look", NewBookScene, {201: SceneOut}),
    (
        "post",
        "/api/books/{book_id}/reel",
        "Join every scene's finished clip, after title cards, into the book's reel (a render)",
        None,
        {202: RenderStarted},
    ),
    ("post", "/api/prompt-tokens", "Estimated CLIP tokens per prompt", PromptTexts, {200: TokenCounts}),
    ("get", "/api/openapi.json", "This document", None, {}),
]
# Request headers beyond the session's CSRF token, by (method, path).
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "one key per thing the person did (a UUID): a repeat from the same person gets the first "
    "answer, status and body, and does nothing again; the key with another request is a 422",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
HEADERS = {
    ("post", "/api/scenes"): [_IDEMPOTENCY_KEY],
    ("post", "/api/scenes/{scene_id}/renders"): [_IDEMPOTENCY_KEY],
    ("put", "/api/scenes/{scene_id}/storyboard"): [
        {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": "the ETag of GET /api/scenes/{scene_id}: saved only over that version, else 409. "
            "Without it the last save wins.",
            "schema": {"type": "string"},
        }
    ],
}
ERRORS = {
    400: "unreadable request or missing CSRF token",
    403: "someone else's render, a step for accounts or for admins only, a clip length the person's plan does not "
    "allow, or behind IAP no valid assertion",
    404: "no such scene, render, book, plan or account",
    409: "a step that must wait for another, or a storyboard saved elsewhere since the If-Match version",
    413: "request too large",
    422: "invalid input, with per-field errors",
    429: "rate limit, daily quota or the day's spend cap, with Retry-After",
}
SCHEMA_REF = "#/components/schemas/{model}"


@cache
def openapi_document() -> dict:
    # Request bodies as they are validated, responses as they are serialised.
    pairs: set[tuple[type[BaseModel], JsonSchemaMode]] = {
        (request, "validation") for method, *_, request, _ in OPERATIONS if request and method != "get"
    }
    pairs |= {(model, "serialization") for *_, responses in OPERATIONS for model in responses.values() if model}
    pairs.add((ErrorOut, "serialization"))
    refs, definitions = models_json_schema(sorted(pairs, key=lambda p: (p[0].__name__, p[1])), ref_template=SCHEMA_REF)

    def ref(model: type[BaseModel], mode: JsonSchemaMode = "serialization") -> dict:
        return refs[(model, mode)]

    paths: dict[str, dict] = {}
    for method, path, summary, request, responses in OPERATIONS:
        operation: dict = {"summary": summary, "responses": {}}
        parameters = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        if parameters:
            operation["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in parameters
            ]
        if (method, path) in HEADERS:
            operation["parameters"] = operation.get("parameters", []) + HEADERS[(method, path)]
        if request and method == "get":
            properties = request.model_json_schema()["properties"]
            operation.setdefault("parameters", []).extend(
                {"name": name, "in": "query", "schema": schema} for name, schema in properties.items()
            )
        elif request:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(request, "validation")}},
            }
        for status, model in responses.items():
            operation["responses"][str(status)] = {"description": summary}
            if model:
                operation["responses"][str(status)]["content"] = {"application/json": {"schema": ref(model)}}
        if not responses:
            operation["responses"]["200"] = {"description": summary}
        if method != "get" or parameters:
            for status, description in ERRORS.items():
                operation["responses"][str(status)] = {
                    "description": description,
                    "content": {"application/json": {"schema": ref(ErrorOut)}},
                }
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Animated Books API",
            "version": "1",
            "description": "Every state-changing call sends the X-CSRFToken header from GET /api/session.",
        },
        "paths": paths,
        "components": {"schemas": definitions["$defs"]},
    }
