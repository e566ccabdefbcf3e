"""The scene pages: write a scene, answer the questions, edit the storyboard.

Pages are rendered on the server with autoescaping; their script (static/app.js)
drives the JSON API.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from frontend_service import services
from frontend_service.flow import MAX_SCENE_CHARS
from frontend_service.identity import current_person
from infra.domain.ids import now
from infra.domain.presets import DEFAULT_PRESET, PRESETS
from infra.domain.storyboard import MAX_SHOTS

bp = Blueprint("scenes", __name__)


@bp.get("/")
def new_scene():
    return render_template("new_scene.html", max_scene_chars=MAX_SCENE_CHARS)


@bp.get("/scenes/<scene_id>")
def scene(scene_id: str):
    person = current_person()
    flow = services.scene_flow()
    scene = flow.scene(person.user_id, scene_id)
    renders_left, daily_renders = flow.admission.renders_left(person, now())
    return render_template(
        "scene.html",
        scene=scene,
        presets=list(PRESETS),
        default_preset=DEFAULT_PRESET,
        max_shots=MAX_SHOTS,
        renders_left=renders_left,
        daily_renders=daily_renders,
    )
