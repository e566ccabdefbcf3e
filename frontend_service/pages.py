"""The site's pages, and a render's files served to its owner.

Pages are rendered on the server with autoescaping; their scripts (static/app.js)
drive the JSON API. Files are served with HTTP range support, so the video player
can seek before the whole clip has arrived.
"""

from __future__ import annotations

import re
import unicodedata

from flask import Blueprint, abort, current_app, render_template, send_file

from frontend_service.dialogue.offline import transliterate
from frontend_service.flow import SceneFlow
from frontend_service.users import current_user
from infra.contract import MAX_SHOTS
from infra.presets import DEFAULT_PRESET, PRESETS, TINY_MODEL
from infra.usage import UsageEvent

bp = Blueprint("pages", __name__)

FILE_TYPES = {"video": "video/mp4", "poster": "image/jpeg", "preview": "image/webp"}


def _flow() -> SceneFlow:
    return current_app.extensions["flow"]


@bp.app_context_processor
def _site():
    settings = current_app.extensions["adapters"].settings
    return {"demo_model": settings.model == TINY_MODEL}


@bp.get("/")
def new_scene():
    return render_template("new_scene.html")


@bp.get("/scenes/<scene_id>")
def scene(scene_id: str):
    scene = _flow().scene(current_user(), scene_id)
    return render_template(
        "scene.html", scene=scene, presets=list(PRESETS), default_preset=DEFAULT_PRESET, max_shots=MAX_SHOTS
    )


@bp.get("/renders")
def renders():
    records = current_app.extensions["adapters"].records
    return render_template("renders.html", renders=records.list_renders(current_user()))


@bp.get("/renders/<render_id>")
def render_page(render_id: str):
    return render_template("render.html", render=_flow().render(current_user(), render_id))


@bp.get("/renders/<render_id>/files/<name>")
def render_file(render_id: str, name: str):
    render = _flow().render(current_user(), render_id)
    if name not in FILE_TYPES or name not in render.artifacts:
        abort(404)
    storage = current_app.extensions["adapters"].storage
    return send_file(
        storage.path_for(render.artifacts[name]), mimetype=FILE_TYPES[name], conditional=True, max_age=3600
    )


@bp.get("/renders/<render_id>/download")
def download(render_id: str):
    render = _flow().render(current_user(), render_id)
    if "video" not in render.artifacts:
        abort(404)
    adapters = current_app.extensions["adapters"]
    adapters.usage.record(
        UsageEvent(kind="download", user_id=render.user_id, render_id=render.id, scene_id=render.scene_id)
    )
    return send_file(
        adapters.storage.path_for(render.artifacts["video"]),
        mimetype="video/mp4",
        as_attachment=True,
        download_name=f"{slug(render.spec.storyboard.title)}.mp4",
        conditional=True,
    )


def slug(title: str) -> str:
    """A safe file name from a title, in ASCII (Раскольников -> raskolnikov)."""
    latin = " ".join(transliterate(word) for word in title.split())
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "animated-books-clip"
