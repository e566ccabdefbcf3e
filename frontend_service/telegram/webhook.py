"""The Telegram front on the web service (registered only with TELEGRAM_BOT_TOKEN):

- POST /telegram/webhook: Telegram's updates. A request whose X-Telegram-Bot-Api-Secret-Token
  is not TELEGRAM_WEBHOOK_SECRET (compared in constant time) is a 403; only registered
  when the secret is set.
- POST /telegram/renders?token=<the webhook secret>: a Pub/Sub push of the usage-events topic
  (filtered to render events): the render's chat hears it finished and gets the clip.
  No request ever waits for a render.
- GET /telegram/open/<signed link>: "Edit on the site" from a chat: signs the browser in as
  that Telegram account and opens the scene.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from telegram import Update

from frontend_service import services, site_secret_key
from frontend_service.flow import SceneFlow
from frontend_service.gallery_flow import GalleryFlow
from frontend_service.identity import sign_in
from frontend_service.middleware.security import csrf, limiter
from frontend_service.telegram import build_front
from frontend_service.telegram.front import TelegramFront, make_bot
from frontend_service.telegram.links import BadLink, SiteLinks
from frontend_service.telegram.runner import BotRunner
from infra.bootstrap import Adapters
from infra.domain.publication import Publication
from infra.domain.user import User

log = logging.getLogger(__name__)

bp = Blueprint("telegram", __name__, url_prefix="/telegram")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FRONT, RUNNER = "telegram_front", "telegram_runner"


class PushMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    attributes: dict[str, str] = Field(default_factory=dict)
    message_id: str = Field(default="", validation_alias="messageId")


class PushEnvelope(BaseModel):
    """The JSON body of a Pub/Sub push request, as Google documents it."""

    model_config = ConfigDict(extra="ignore")
    message: PushMessage
    subscription: str = Field(min_length=1)


def init(app: Flask, adapters: Adapters, scenes: SceneFlow, gallery: GalleryFlow) -> None:
    settings = adapters.settings
    assert settings.telegram_bot_token is not None  # the app factory asks only then
    token = settings.telegram_bot_token.get_secret_value()
    front = build_front(adapters, scenes, site_secret_key(settings))
    runner = BotRunner(lambda: make_bot(token, settings.telegram_api_url))
    app.extensions[FRONT], app.extensions[RUNNER] = front, runner
    if settings.telegram_channel_id:

        def announce(publication: Publication) -> None:
            runner.submit(lambda bot: front.post_to_channel(bot, publication), f"posting {publication.render_id}")

        gallery.announce = announce
    csrf.exempt(bp)  # Telegram and Pub/Sub have no session: the secret is the check
    limiter.exempt(bp)  # per chat instead (front.py), on the same counters
    app.register_blueprint(bp)


def _front() -> TelegramFront:
    return current_app.extensions[FRONT]


def _runner() -> BotRunner:
    return current_app.extensions[RUNNER]


def _secret_matches(given: str | None) -> bool:
    secret = services.adapters().settings.telegram_webhook_secret
    if secret is None:
        return False
    return hmac.compare_digest((given or "").encode(), secret.get_secret_value().encode())


def _error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


@bp.post("/webhook")
def webhook():
    if services.adapters().settings.telegram_webhook_secret is None:
        abort(404)  # `make bot` polls; no webhook without its secret
    if not _secret_matches(request.headers.get(SECRET_HEADER)):
        return _error(403, "forbidden", f"{SECRET_HEADER} is missing or not this bot's webhook secret")
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return _error(400, "bad_request", "the body should be a Telegram Update: a JSON object with its update_id")
    front = _front()

    async def handle(bot):
        await front.handle(bot, Update.de_json(data, bot))

    try:
        _runner().run(handle)
    except Exception:
        # Answered all the same: Telegram would send a failing update again and again.
        log.exception("telegram: update %s not handled", data["update_id"])
    return jsonify({})


@bp.post("/renders")
def render_event():
    if not _secret_matches(request.args.get("token")):
        return _error(403, "forbidden", "token is missing or not this push subscription's")
    try:
        envelope = PushEnvelope.model_validate_json(request.get_data())
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        return _error(400, "bad_request", f"not a Pub/Sub push body: {where}: {first['msg']}")
    attributes = envelope.message.attributes
    render_id = attributes.get("render_id")
    if attributes.get("kind") == "render" and render_id:
        front = _front()
        _runner().run(lambda bot: front.deliver(bot, render_id))
    return "", 204


@bp.get("/open/<token>")
def open_link(token: str):
    settings = services.adapters().settings
    try:
        opening = SiteLinks(settings.site_url, site_secret_key(settings)).read(token)
    except BadLink:
        return _error(403, "bad_link", "this link is not the bot's, or older than a day: ask the bot for a new one")
    sign_in(User(id=opening.user_id, account=True, name=opening.name), verified_email=False)
    return redirect(opening.path)
