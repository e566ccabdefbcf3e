"""The scene pages: write a scene, answer the questions, edit the storyboard.

Pages are rendered on the server with autoescaping; their script (static/app.js)
drives the JSON API.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext

from frontend_service import services
from frontend_service.identity import current_user
from infra.domain.presets import DEFAULT_PRESET, PRESETS
from infra.domain.storyboard import MAX_QUOTE_CHARS, MAX_SHOTS

bp = Blueprint("scenes", __name__)


@bp.get("/")
def new_scene():
    return render_template("new_scene.html")


@bp.get("/scenes/<scene_id>")
def scene(scene_id: str):
    scene = services.scene_flow().scene(current_user(), scene_id)
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
        max_shots=MAX_SHOTS,
        max_quote_chars=MAX_QUOTE_CHARS,
        aspects=aspects,
    )
