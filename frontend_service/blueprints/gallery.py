"""The gallery pages: finished clips people chose to share, each with its whole recipe.

The JSON side is in api.py (/api/gallery, /api/renders/<id>/publish, vote, remix,
report); these pages show the same data and use those endpoints from app.js.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError

from frontend_service import services
from frontend_service.blueprints.api import subtitles_language
from frontend_service.gallery_flow import AppealRequest, GalleryQuery
from frontend_service.i18n import field_errors
from frontend_service.identity import current_person
from infra.domain.presets import STANDARD_SIZES
from infra.domain.publication import APPEAL_MAX_CHARS

bp = Blueprint("gallery", __name__, url_prefix="/gallery")

# A card's picture at its clip's shape, the longer side 256 pixels.
THUMB_SIZES = {
    aspect: (round(256 * width / max(width, height)), round(256 * height / max(width, height)))
    for aspect, (width, height) in STANDARD_SIZES.items()
}


@bp.context_processor
def _thumb_sizes() -> dict:
    return {"thumb_sizes": THUMB_SIZES}


@bp.get("")
def index():
    try:
        query = GalleryQuery.model_validate(request.args.to_dict())
    except ValidationError as error:
        errors = "; ".join(f"{item.field}: {item.message}" for item in field_errors(error))
        return render_template("gallery.html", query=GalleryQuery(), items=[], error=errors, links={}), 400
    items, more = services.gallery_flow().page(query.sort, query.where(), query.page)
    arguments = query.model_dump(exclude_defaults=True, exclude={"page"})
    links = {
        "previous": url_for("gallery.index", **arguments, page=query.page - 1) if query.page > 1 else None,
        "next": url_for("gallery.index", **arguments, page=query.page + 1) if more else None,
        "top": url_for("gallery.index", **(arguments | {"sort": "top"})),
        "new": url_for("gallery.index", **(arguments | {"sort": "new"})),
        "all": url_for("gallery.index", **(arguments | {"show": "all"})),
    }
    return render_template("gallery.html", query=query, items=items, links=links, error=None)


@bp.get("/<render_id>")
def clip(render_id: str):
    return _clip_page(render_id)


@bp.post("/<render_id>/appeal")
def appeal(render_id: str):
    """The owner's appeal from the clip's page (a plain form; the API has the same)."""
    note = request.form.get("note", "")
    try:
        appeal_request = AppealRequest.model_validate({"note": note})
    except ValidationError:
        message = _("Write why the clip should be back, in at most %(max)d characters.", max=APPEAL_MAX_CHARS)
        return _clip_page(render_id, appeal_error=message, appeal_note=note[:APPEAL_MAX_CHARS]), 422
    services.gallery_flow().appeal(current_person(), render_id, appeal_request)
    return redirect(url_for("gallery.clip", render_id=render_id), code=303)


def _clip_page(render_id: str, **extra) -> str:
    person = current_person()
    user = person.user_id
    view = services.gallery_flow().clip(user, render_id, person.admin)
    return render_template(
        "clip.html",
        view=view,
        owner=view.render.user_id == user,
        appeal_max=APPEAL_MAX_CHARS,
        subtitles_language=subtitles_language(view.render),
        **extra,
    )
