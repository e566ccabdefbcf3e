"""Roles: admins (ANIMBOOKS_ADMIN_EMAILS, see identity.py) alone see the reports, the
metrics and the moderation page, in the site and in the API; everyone else gets 403.

A blueprint is made admin-only whole (`guard(bp)`), so a route added to it later is
guarded too; a single view outside one is marked with `@admin_only`. The test that holds
this finds the guarded routes from the app's URL map.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, request

from frontend_service import services
from frontend_service.identity import current_person

#: Set on every view an admin alone may call (those of guarded blueprints included).
ADMIN_ONLY = "admin_only"
#: The blueprints guarded whole.
GUARDED: set[str] = set()


class AdminOnly(Exception):
    """Someone who is not an admin asked for an admin's page."""

    def __init__(self, signed_in: bool):
        super().__init__("admins only")
        self.signed_in = signed_in


def require_admin() -> None:
    person = current_person()
    if not person.admin:
        raise AdminOnly(signed_in=person.account)


def guard(bp: Blueprint) -> Blueprint:
    bp.before_request(require_admin)
    GUARDED.add(bp.name)
    return bp


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        require_admin()
        return view(*args, **kwargs)

    setattr(guarded, ADMIN_ONLY, True)
    return guarded


def admin_or_scraper(view: Callable[..., Any]) -> Callable[..., Any]:
    """An admin, or a scraper that sends the metrics token (ANIMBOOKS_METRICS_TOKEN) as a bearer token."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        token = services.adapters().settings.metrics_token
        sent = request.headers.get("Authorization", "")
        if not (token and hmac.compare_digest(sent.encode(), f"Bearer {token.get_secret_value()}".encode())):
            require_admin()
        return view(*args, **kwargs)

    setattr(guarded, ADMIN_ONLY, True)
    return guarded
