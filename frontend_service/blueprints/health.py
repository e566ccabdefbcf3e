"""Health: `/healthz` says the process answers (liveness, cheap); `/readyz` says every
store it needs can be written or read now (readiness: records, render queue, clip
storage, usage), and which cannot."""

from __future__ import annotations

from flask import Blueprint

from frontend_service import services
from infra.health import problems

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    failing = problems(services.adapters())
    if failing:
        return {"status": "not ready", "failing": failing}, 503
    return {"status": "ready"}
