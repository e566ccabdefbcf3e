"""The website and its JSON API (Flask). It never imports torch or diffusers."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from frontend_service import services
from frontend_service.dialogue import build_engine
from frontend_service.flow import SceneFlow
from frontend_service.gallery_flow import GalleryFlow
from infra.bootstrap import Adapters, bootstrap
from infra.domain.presets import TINY_MODEL
from infra.settings import Settings

MAX_REQUEST_BYTES = 64 * 1024  # a scene is at most a few KB of JSON


class JsonProvider(DefaultJSONProvider):
    """JSON nested deeper than the parser's stack (30,000 `[` fit in a small body) is
    unreadable JSON like any other: a 400, not a RecursionError."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None


def create_app(test_config: dict | None = None, adapters: Adapters | None = None) -> Flask:
    """The app factory. `adapters` come built (tests pass their own); by default the
    embedded stack from the environment's settings."""
    app = Flask(__name__)
    app.json = JsonProvider(app)
    adapters = adapters or bootstrap()
    settings = adapters.settings
    if settings.trusted_proxies:
        # The client address is what the trusted proxies say, and nothing a client sends itself.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)  # type: ignore[method-assign]
    app.config.from_mapping(
        SECRET_KEY=site_secret_key(settings),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        FORCE_HTTPS=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        DIALOGUE_RATE_LIMIT="30 per minute",
        RENDER_RATE_LIMIT="10 per minute",
        VOTE_RATE_LIMIT="30 per minute",
        REPORT_RATE_LIMIT="5 per minute",
        START_WORKER=True,
    )
    if test_config:
        app.config.from_mapping(test_config)
    scene_flow, gallery_flow = SceneFlow(adapters, build_engine(settings)), GalleryFlow(adapters)
    services.install(app, adapters, scene_flow, gallery_flow)

    from frontend_service import i18n, identity
    from frontend_service.middleware import metrics, request_log, security

    request_log.init(app)
    identity.init(app)  # behind IAP, who is asking is settled before anything else runs
    security.init(app)
    metrics.init(app)
    i18n.init(app)

    from frontend_service.blueprints import (
        accounts,
        api,
        books,
        errors,
        gallery,
        health,
        moderation,
        plans,
        renders,
        reports,
        scenes,
    )

    accounts.init(app)
    for blueprint in (
        errors.bp,
        health.bp,
        api.bp,
        scenes.bp,
        renders.bp,
        books.bp,
        gallery.bp,
        reports.bp,
        accounts.bp,
        moderation.bp,
        moderation.api,
        plans.bp,
        plans.api,
    ):
        app.register_blueprint(blueprint)

    if settings.telegram:  # without a bot token nothing of Telegram starts
        from frontend_service.telegram import webhook

        webhook.init(app, adapters, scene_flow, gallery_flow)

    @app.context_processor
    def _site():
        return {
            "demo_model": settings.model == TINY_MODEL,
            "person": identity.person_or_none(),
            "sign_in_offered": settings.google_sign_in or settings.local_sign_in,
        }

    if app.config["START_WORKER"] and settings.mode == "local":
        from infra.local_worker import LocalWorker
        from infra.queue.sqlite import SqliteRenderQueue

        if not isinstance(adapters.queue, SqliteRenderQueue):
            raise TypeError("the local render worker needs the SQLite render queue")
        worker = LocalWorker(adapters, adapters.queue)
        worker.start()
        app.extensions["worker"] = worker
    return app


def site_secret_key(settings: Settings) -> str:
    """Signs session cookies (and the bot's links to the site): the configured key, else one
    kept in the data folder, so sessions survive a restart and `make bot` signs as the site."""
    if settings.secret_key:
        return settings.secret_key.get_secret_value()
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
