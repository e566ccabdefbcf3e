"""The render pages, and a render's files served to its owner.

Files are served with HTTP range support, so the video player can seek before the
whole clip has arrived.
"""

from __future__ import annotations

import re
import unicodedata

from flask import Blueprint, abort, current_app, redirect, render_template, send_file

from frontend_service.dialogue.offline import transliterate
from frontend_service.users import current_user
from infra.usage import UsageEvent

bp = Blueprint("renders", __name__, url_prefix="/renders")

FILE_TYPES = {"video": "video/mp4", "poster": "image/jpeg", "preview": "image/webp"}


@bp.get("")
def index():
    records = current_app.extensions["adapters"].records
    return render_template("renders.html", renders=records.list_renders(current_user()))


@bp.get("/<render_id>")
def page(render_id: str):
    return render_template("render.html", render=current_app.extensions["flow"].render(current_user(), render_id))


@bp.get("/<render_id>/files/<name>")
def file(render_id: str, name: str):
    render = current_app.extensions["flow"].render(current_user(), render_id)
    if name not in FILE_TYPES or name not in render.artifacts:
        abort(404)
    storage = current_app.extensions["adapters"].storage
    url = storage.download_url(render.artifacts[name])
    if url:  # Cloud Storage: the browser fetches the object itself, through a signed URL
        return redirect(url)
    return send_file(
        storage.path_for(render.artifacts[name]), mimetype=FILE_TYPES[name], conditional=True, max_age=3600
    )


@bp.get("/<render_id>/download")
def download(render_id: str):
    render = current_app.extensions["flow"].render(current_user(), render_id)
    if "video" not in render.artifacts:
        abort(404)
    adapters = current_app.extensions["adapters"]
    adapters.usage.record(
        UsageEvent(kind="download", user_id=render.user_id, render_id=render.id, scene_id=render.scene_id)
    )
    filename = f"{slug(render.spec.storyboard.title)}.mp4"
    url = adapters.storage.download_url(render.artifacts["video"], filename)
    if url:
        return redirect(url)
    return send_file(
        adapters.storage.path_for(render.artifacts["video"]),
        mimetype="video/mp4",
        as_attachment=True,
        download_name=filename,
        conditional=True,
    )


def slug(title: str) -> str:
    """A safe file name from a title, in ASCII (Раскольников -> raskolnikov)."""
    latin = " ".join(transliterate(word) for word in title.split())
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "animated-books-clip"
