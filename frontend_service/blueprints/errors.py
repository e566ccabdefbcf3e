"""Every error answered in words a person can act on: JSON under /api, a page elsewhere.

Bad input is a 4xx that names what to change; nothing unexpected ever shows a stack
trace (it is logged, and the person gets a short apology with a 500).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from frontend_service.admission import Busy, QuotaExceeded, SpendCapReached
from frontend_service.dialogue.engine import Refused
from frontend_service.flow import NotFound, NotInPlan, NotReady, Refusal, StaleStoryboard
from frontend_service.gallery_flow import Forbidden, SignInRequired
from frontend_service.i18n import field_errors
from frontend_service.identity import IdentityUnavailable, NotSignedIn
from frontend_service.plans_flow import Unacceptable
from frontend_service.roles import AdminOnly
from infra.domain.ids import now
from infra.domain.text import N_
from infra.usage.warehouse import UsageReportsBusy

bp = Blueprint("errors", __name__)
log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: N_("The request could not be read; check what was sent."),
    403: N_("This belongs to someone else."),
    404: N_("There is nothing here."),
    405: N_("This address does not accept that method."),
    413: N_("The request is too large: a scene is at most 4,000 characters."),
    415: N_("Send JSON with Content-Type: application/json."),
    416: N_("The range asked for starts past the end of the file."),
    429: N_("Too many requests: wait a minute and try again."),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str, fields: list[dict] | None = None) -> tuple[Response, int]:
    if request.path.startswith("/api/"):
        error: dict[str, object] = {"code": code, "message": message}
        if fields:
            error["fields"] = fields
        return jsonify(error=error), status
    return make_response(render_template("error.html", status=status, message=message)), status


@bp.app_errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.status, error.code, error.message)


@bp.app_errorhandler(ValidationError)
def _invalid(error: ValidationError):
    fields = [item.model_dump() for item in field_errors(error)]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return error_response(422, "invalid", _("Please correct: %(summary)s", summary=summary), fields)


def _sentence(error: Refusal) -> str:
    """A use case's refusal in the person's language, as a sentence."""
    text = _(error.template, **error.values)
    return f"{text[:1].upper()}{text[1:]}."


@bp.app_errorhandler(NotFound)
def _not_found(error: NotFound):
    return error_response(404, "not_found", _sentence(error))


@bp.app_errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    return error_response(403, "forbidden", _sentence(error))


@bp.app_errorhandler(Unacceptable)
def _unacceptable(error: Unacceptable):
    return error_response(422, "invalid", _sentence(error))


@bp.app_errorhandler(NotInPlan)
def _not_in_plan(error: NotInPlan):
    return error_response(403, "not_in_plan", _sentence(error))


@bp.app_errorhandler(SignInRequired)
def _sign_in_required(error: SignInRequired):
    return error_response(403, "sign_in_required", _sentence(error))


@bp.app_errorhandler(AdminOnly)
def _admins_only(error: AdminOnly):
    if error.signed_in:
        return error_response(403, "admins_only", _("Only admins may see this page."))
    return error_response(403, "admins_only", _("Only admins may see this page. Sign in with an admin account."))


@bp.app_errorhandler(NotSignedIn)
def _not_signed_in(error: NotSignedIn):
    message = _(
        "This site is open only through Identity-Aware Proxy, and this request did not come through it signed in."
        " Open the site's address in a browser signed in to an allowed Google account."
    )
    return error_response(403, "identity_required", message)


@bp.app_errorhandler(IdentityUnavailable)
def _identity_unavailable(error: IdentityUnavailable):
    log.error("IAP: %s", error)
    response, status = error_response(
        503, "identity_unavailable", _("Who is asking cannot be checked just now; try again in a minute.")
    )
    response.headers["Retry-After"] = "30"
    return response, status


@bp.app_errorhandler(NotReady)
def _not_ready(error: NotReady):
    return error_response(409, "not_ready", _sentence(error))


@bp.app_errorhandler(StaleStoryboard)
def _stale(error: StaleStoryboard):
    message = _(
        "This storyboard was saved from somewhere else (another tab?) since you opened it. "
        "Load the saved one, or save yours over it."
    )
    response, status = error_response(409, "stale_storyboard", message)
    response.set_etag(str(error.version))
    return response, status


@bp.app_errorhandler(QuotaExceeded)
def _quota(error: QuotaExceeded):
    hours, minutes = _until(error.resets_at)
    message = ngettext(
        "You have started %(num)d render today, the daily limit. "
        "It resets at 00:00 UTC, in %(hours)d h %(minutes)d min.",
        "You have started %(num)d renders today, the daily limit. "
        "It resets at 00:00 UTC, in %(hours)d h %(minutes)d min.",
        error.limit,
        hours=hours,
        minutes=minutes,
    )
    return _retry_after(error_response(429, "quota", message), error.resets_at)


@bp.app_errorhandler(SpendCapReached)
def _spend_cap(error: SpendCapReached):
    hours, minutes = _until(error.resets_at)
    message = _(
        "Today's rendering budget is used up. New renders start again at 00:00 UTC, in %(hours)d h "
        "%(minutes)d min; renders already queued will still be made.",
        hours=hours,
        minutes=minutes,
    )
    return _retry_after(error_response(429, "spend_cap", message), error.resets_at)


@bp.app_errorhandler(Busy)
def _busy(error: Busy):
    log.warning("counters contended: %s", error)
    response, status = error_response(429, "busy", _("Too many requests at once: try again in a few seconds."))
    response.headers["Retry-After"] = "5"
    return response, status


def _until(moment) -> tuple[int, int]:
    hours, rest = divmod(max(int((moment - now()).total_seconds()), 0), 3600)
    return hours, rest // 60


def _retry_after(answer: tuple[Response, int], moment) -> tuple[Response, int]:
    response, status = answer
    response.headers["Retry-After"] = str(max(1, int((moment - now()).total_seconds())))
    return response, status


@bp.app_errorhandler(Refused)
def _refused(error: Refused):
    return error_response(422, "refused", str(error))


@bp.app_errorhandler(UsageReportsBusy)
def _reports_busy(error: UsageReportsBusy):
    log.warning("reports: %s", error)
    response, status = error_response(503, "busy", _("The reports are being updated; try again in a minute."))
    response.headers["Retry-After"] = "30"
    return response, status


@bp.app_errorhandler(CSRFError)
def _csrf(error: CSRFError):
    return error_response(400, "csrf", _("The session token is missing or out of date: reload the page and try again."))


@bp.app_errorhandler(HTTPException)
def _http(error: HTTPException):
    status_code = error.code or 500
    message = _(_HTTP_MESSAGES[status_code]) if status_code in _HTTP_MESSAGES else error.description or error.name
    response, status = error_response(status_code, error.name.lower().replace(" ", "_"), message)
    for name, value in error.get_headers():  # Allow on a 405, Content-Range on a 416
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


@bp.app_errorhandler(Exception)
def _unexpected(error: Exception):
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, "internal", _("Something went wrong on our side. Please try again in a moment."))
