"""The render pages, and a render's files: served to its owner, and to anyone once it
is listed in the gallery.

Files are served with HTTP range support, so the video player can seek before the
whole clip has arrived.
"""

from __future__ import annotations

import re
import unicodedata

from flask import Blueprint, abort, current_app, redirect, render_template, send_file

from frontend_service.dialogue.offline import transliterate
from frontend_service.users import current_user
from infra.pricing import egress_cost
from infra.usage import UsageEvent

bp = Blueprint("renders", __name__, url_prefix="/renders")

FILE_TYPES = {"video": "video/mp4", "poster": "image/jpeg", "preview": "image/webp"}


@bp.get("")
def index():
    records = current_app.extensions["adapters"].records
    return render_template("renders.html", renders=records.list_renders(current_user()))


@bp.get("/<render_id>")
def page(render_id: str):
    user = current_user()
    render = current_app.extensions["flow"].render(user, render_id)
    gallery = current_app.extensions["gallery"]
    return render_template("render.html", render=render, publication=gallery.publication(render_id))


@bp.get("/<render_id>/files/<name>")
def file(render_id: str, name: str):
    render = current_app.extensions["gallery"].viewable(current_user(), render_id)  # theirs, or in the gallery
    if name not in FILE_TYPES or name not in render.artifacts:
        abort(404)
    return _serve(render.artifacts[name], FILE_TYPES[name])


@bp.get("/<render_id>/download")
def download(render_id: str):
    render = current_app.extensions["gallery"].viewable(current_user(), render_id)
    if "video" not in render.artifacts:
        abort(404)
    adapters = current_app.extensions["adapters"]
    size = adapters.storage.size(render.artifacts["video"]) or 0
    adapters.usage.record(
        UsageEvent(
            kind="download",
            user_id=current_user(),  # who downloads pays the egress
            render_id=render.id,
            scene_id=render.scene_id,
            cost_usd=egress_cost(size),
            attributes={"bytes": size},
        )
    )
    return _serve(render.artifacts["video"], "video/mp4", download_name=f"{slug(render.spec.storyboard.title)}.mp4")


def _serve(key: str, mimetype: str, download_name: str | None = None):
    """A stored file: through a signed URL where storage gives one (Cloud Storage), else
    served here with HTTP ranges; as an attachment when it has a download name."""
    storage = current_app.extensions["adapters"].storage
    url = storage.download_url(key, download_name)
    if url:
        return redirect(url)
    if download_name:
        return send_file(
            storage.path_for(key), mimetype=mimetype, conditional=True, as_attachment=True, download_name=download_name
        )
    return send_file(storage.path_for(key), mimetype=mimetype, conditional=True, max_age=3600)


def slug(title: str) -> str:
    """A safe file name from a title, in ASCII (Раскольников -> raskolnikov)."""
    latin = " ".join(transliterate(word) for word in title.split())
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "animated-books-clip"
