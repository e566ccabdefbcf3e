"""The admins' plans: the plans there are (the free one from the settings, the stored
ones), a form to store a plan, a form to put an account on one, and the accounts on
plans with a button each back to the free plan. Plain forms (a POST with the CSRF token,
then back to the page; a mistake comes back with the page and says what to change), and
the same under /api/plans for a script. Both blueprints are guarded whole."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from pydantic import ValidationError

from frontend_service import roles, services
from frontend_service.api_models import PlanAccountOut, PlansPage
from frontend_service.blueprints.api import json_body
from frontend_service.flow import NotFound, Refusal
from frontend_service.forms import whole_number
from frontend_service.i18n import field_errors
from frontend_service.plans_flow import PlanChoice, PlanFlow, PlanTerms
from infra.domain.presets import CLIP_LENGTHS, DEFAULT_CLIP_SECONDS
from infra.domain.user import User

bp = roles.guard(Blueprint("plans", __name__, url_prefix="/plans"))
api = roles.guard(Blueprint("plans_api", __name__, url_prefix="/api/plans"))


def _flow() -> PlanFlow:
    return PlanFlow(services.adapters())


def _page(status: int = 200, errors: dict[str, str] | None = None, form: dict | None = None):
    flow = _flow()
    page = render_template(
        "plans.html",
        plans=flow.plans(),
        accounts=flow.accounts(),
        lengths=CLIP_LENGTHS,
        standard=DEFAULT_CLIP_SECONDS,
        errors=errors or {},
        form=form or {},
    )
    return page, status


@bp.get("")
def index():
    return _page()


@bp.post("")
def save():
    form = request.form
    name = form.get("name", "").strip()
    try:
        terms = PlanTerms.model_validate(
            {
                "clip_seconds": [DEFAULT_CLIP_SECONDS, *(whole_number(v) for v in form.getlist("clip_seconds"))],
                "daily_renders": whole_number(form.get("daily_renders", "")) or 0,
            }
        )
        _flow().save(name, terms)
    except ValidationError as error:
        return _page(422, {f"plan.{item.field}": item.message for item in field_errors(error)}, dict(form))
    except Refusal as error:
        return _page(422, {"plan.name": _sentence(error)}, dict(form))
    return _back()


@bp.post("/accounts")
def assign():
    user_id = request.form.get("user_id", "").strip()
    try:
        _flow().assign(user_id, PlanChoice(plan=request.form.get("plan") or None))
    except Refusal as error:
        return _page(404 if isinstance(error, NotFound) else 422, {"account": _sentence(error)}, dict(request.form))
    return _back()


def _back():
    return redirect(url_for("plans.index"), code=303)


def _sentence(error: Refusal) -> str:
    text = gettext(error.template, **error.values)
    return f"{text[:1].upper()}{text[1:]}."


# -- the same for a script -----------------------------------------------------------------


def _account(user: User) -> PlanAccountOut:
    return PlanAccountOut(user_id=user.id, email=user.email, plan=user.plan)


@api.get("")
def api_index():
    flow = _flow()
    page = PlansPage(plans=flow.plans(), accounts=[_account(user) for user in flow.accounts()])
    return page.model_dump(mode="json")


@api.put("/<name>")
def api_save(name: str):
    plan = _flow().save(name, json_body(PlanTerms))
    return plan.model_dump(mode="json")


@api.put("/accounts/<user_id>")
def api_assign(user_id: str):
    return _account(_flow().assign(user_id, json_body(PlanChoice))).model_dump(mode="json")
