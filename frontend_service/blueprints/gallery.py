"""The gallery pages: finished clips people chose to share, each with its whole recipe.

The JSON side is in api.py (/api/gallery, /api/renders/<id>/publish, vote, remix,
report); these pages show the same data and use those endpoints from app.js.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from pydantic import ValidationError

from frontend_service import services
from frontend_service.gallery_flow import GalleryQuery
from frontend_service.identity import current_user
from infra.domain.storyboard import field_errors

bp = Blueprint("gallery", __name__, url_prefix="/gallery")


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
    user = current_user()
    view = services.gallery_flow().clip(user, render_id)
    return render_template("clip.html", view=view, owner=view.render.user_id == user)
