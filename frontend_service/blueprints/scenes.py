"""The scene pages: write a scene, answer the questions, edit the storyboard.

Pages are rendered on the server with autoescaping; their script (static/app.js)
drives the JSON API.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from pydantic import ValidationError

from frontend_service import services
from frontend_service.flow import MAX_SCENE_CHARS, Answers, NewScene
from frontend_service.i18n import field_errors
from frontend_service.identity import current_person, current_user
from frontend_service.middleware.security import limiter
from infra.domain.ids import now
from infra.domain.presets import CLIP_LENGTHS, DEFAULT_PRESET, PRESETS
from infra.domain.storyboard import MAX_QUOTE_CHARS, SHOTS_PER_15_SECONDS

bp = Blueprint("scenes", __name__)


@bp.get("/")
def new_scene():
    return render_template("new_scene.html", max_scene_chars=MAX_SCENE_CHARS, form={}, errors={})


@bp.post("/")
@limiter.limit(lambda: current_app.config["DIALOGUE_RATE_LIMIT"])
def create_scene():
    """The new-scene form sent without JavaScript (a plain POST, its CSRF token in the form):
    the same scene the API makes, then its page. Bad input comes back with the form, kept."""
    form = {name: request.form.get(name, "") for name in ("text", "book", "author", "passage")}
    try:
        new = NewScene.model_validate({name: value or None for name, value in form.items()})
    except ValidationError as error:
        errors = {item.field: item.message for item in field_errors(error)}
        return render_template("new_scene.html", max_scene_chars=MAX_SCENE_CHARS, form=form, errors=errors), 422
    scene = services.scene_flow().create_scene(current_user(), new)
    return redirect(url_for("scenes.scene", scene_id=scene.id), code=303)


@bp.get("/scenes/<scene_id>")
def scene(scene_id: str):
    person = current_person()
    flow = services.scene_flow()
    scene = flow.scene(person.user_id, scene_id)
    renders_left, daily_renders = flow.admission.renders_left(person, now())
    aspects = [
        ("16:9", gettext("Widescreen 16:9")),
        ("9:16", gettext("Upright 9:16 (a phone)")),
        ("1:1", gettext("Square 1:1")),
    ]
    return render_template(
        "scene.html",
        scene=scene,
        presets=list(PRESETS),
        default_preset=DEFAULT_PRESET,
        shots_per_15_seconds=SHOTS_PER_15_SECONDS,
        renders_left=renders_left,
        daily_renders=daily_renders,
        clip_lengths=CLIP_LENGTHS,
        plan=flow.admission.plan(person.user_id),
        max_quote_chars=MAX_QUOTE_CHARS,
        aspects=aspects,
    )


@bp.post("/scenes/<scene_id>")
@limiter.limit(lambda: current_app.config["DIALOGUE_RATE_LIMIT"])
def answer(scene_id: str):
    """The questions' form sent without JavaScript: the answers, or (its second button)
    the storyboard now; then the scene's page again."""
    flow, user = services.scene_flow(), current_user()
    if "skip" in request.form:
        flow.finish(user, scene_id)
    else:
        asked = {question.id for question in flow.scene(user, scene_id).questions}
        flow.answer(user, scene_id, Answers(answers={k: v for k, v in request.form.items() if k in asked}))
    return redirect(url_for("scenes.scene", scene_id=scene_id), code=303)
