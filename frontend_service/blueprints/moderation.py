"""The admins' moderation: reported clips with their reports and appeals; clear (back in
the gallery), hide, delete; stop an account from publishing, or let it again.

The page works with plain forms (each a POST with the CSRF token, then back to the
page), so it needs no script and every control is a button a keyboard reaches. The same
decisions are in the API under /api/moderation for a script. Both blueprints are guarded
whole (roles.guard): everyone but an admin gets 403.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from frontend_service import roles, services
from frontend_service.api_models import BlockOut, ModerationPage, ReportOut, ReviewItemOut
from frontend_service.blueprints.api import publication_out
from frontend_service.gallery_flow import ModerationFlow, ReviewItem
from infra.domain.publication import REVIEW_AFTER_REPORTS, Publication

bp = roles.guard(Blueprint("moderation", __name__, url_prefix="/moderation"))
api = roles.guard(Blueprint("moderation_api", __name__, url_prefix="/api/moderation"))


def _flow() -> ModerationFlow:
    return ModerationFlow(services.adapters(), services.gallery_flow())


@bp.get("")
def index():
    flow = _flow()
    return render_template(
        "moderation.html", items=flow.queue(), blocked=flow.blocked(), review_after=REVIEW_AFTER_REPORTS
    )


@bp.post("/<render_id>/clear")
def clear(render_id: str):
    _flow().clear(render_id)
    return _back()


@bp.post("/<render_id>/hide")
def hide(render_id: str):
    _flow().hide(render_id)
    return _back()


@bp.post("/<render_id>/delete")
def delete(render_id: str):
    _flow().delete(render_id)
    return _back()


@bp.post("/accounts/<user_id>/block")
def block(user_id: str):
    _flow().block_publishing(user_id, True)
    return _back()


@bp.post("/accounts/<user_id>/unblock")
def unblock(user_id: str):
    _flow().block_publishing(user_id, False)
    return _back()


def _back():
    return redirect(url_for("moderation.index"), code=303)


# -- the same for a script -----------------------------------------------------------------


def _item(item: ReviewItem) -> ReviewItemOut:
    publication = item.publication
    return ReviewItemOut(
        render_id=publication.render_id,
        title=publication.title,
        owner_id=publication.owner_id,
        owner=publication.owner,
        owner_publishing_blocked=bool(item.owner and item.owner.publishing_blocked),
        reports=publication.reports,
        open_reports=publication.open_reports,
        held=publication.held,
        hidden=publication.hidden,
        appeal=publication.appeal,
        appeal_open=publication.appeal_open,
        report_list=[
            ReportOut(user_id=report.user_id, reason=report.reason, created_at=report.created_at.isoformat())
            for report in item.reports
        ],
        gallery_url=url_for("gallery.clip", render_id=publication.render_id),
    )


@api.get("")
def queue():
    flow = _flow()
    page = ModerationPage(items=[_item(i) for i in flow.queue()], blocked=[u.id for u in flow.blocked()])
    return page.model_dump(mode="json")


@api.post("/<render_id>/clear")
def api_clear(render_id: str):
    return _publication(_flow().clear(render_id))


@api.post("/<render_id>/hide")
def api_hide(render_id: str):
    return _publication(_flow().hide(render_id))


@api.delete("/<render_id>")
def api_delete(render_id: str):
    _flow().delete(render_id)
    return "", 204


@api.put("/accounts/<user_id>/publishing-block")
def api_block(user_id: str):
    user = _flow().block_publishing(user_id, True)
    return BlockOut(user_id=user.id, publishing_blocked=user.publishing_blocked).model_dump(mode="json")


@api.delete("/accounts/<user_id>/publishing-block")
def api_unblock(user_id: str):
    user = _flow().block_publishing(user_id, False)
    return BlockOut(user_id=user.id, publishing_blocked=user.publishing_blocked).model_dump(mode="json")


def _publication(publication: Publication) -> dict:
    return publication_out(publication).model_dump(mode="json", exclude_none=True)
