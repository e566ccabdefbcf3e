"""The bot: the site's scene flow in a Telegram chat, through the same SceneFlow, GalleryFlow
and ports (no second copy of the logic), for long polling (`make bot`) and the webhook alike.

A Telegram user is the account `telegram:<id>`, with an account's quotas and the same
spend breaker (the flow's admission). In a chat:

- /start, /help; /new or plain text starts a scene; the dialogue's questions come one
  message at a time (buttons: skip one, skip to the storyboard), their answers wait on the
  scene until the round is answered (SceneFlow.hold_answer);
- the storyboard as a short summary with Render and "Edit on the site" (a signed link);
- the render's progress in one message, edited; the MP4 with sendVideo, or a link when it
  is over the Bot API's upload limit; /my lists the latest clips; /lang en|ru.

Which chat hears about a render is stored as a dialogue turn of its scene ("telegram"),
so whoever learns that the render finished (the polling bot watching it, or the web
service on the render's usage event) can deliver it; a counter makes delivery once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageReactionCountUpdated,
    ReactionTypeEmoji,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from frontend_service.admission import Busy, QuotaExceeded, SpendCapReached
from frontend_service.dialogue.engine import Refused
from frontend_service.flow import NewScene, NotFound, NotInPlan, NotReady, RenderRequest, SceneFlow
from frontend_service.identity import Person
from frontend_service.telegram import texts
from frontend_service.telegram.links import SiteLinks
from frontend_service.telegram.texts import say
from infra.bootstrap import Adapters
from infra.counters import Limit
from infra.domain import failures
from infra.domain.ids import now
from infra.domain.publication import Publication
from infra.domain.render import FINISHED, Render
from infra.domain.scene import Scene
from infra.domain.usage import UsageEvent
from infra.domain.user import User

log = logging.getLogger(__name__)

#: The updates the bot asks for (getUpdates and setWebhook): message_reaction_count is
#: sent only when asked for by name, and only to a bot that is a channel's admin.
ALLOWED_UPDATES = ["message", "callback_query", "message_reaction_count"]
#: The Bot API's limits on what a bot uploads (multipart) and on a file it sends by URL.
UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024
URL_LIMIT_BYTES = 20 * 1024 * 1024
LIKE, DISLIKE = "👍", "👎"
#: How long a delivered render's mark is kept (deliveries come within minutes).
DELIVERED_FOR = timedelta(days=30)
TURN = "telegram"
MY_CLIPS = 5
#: Telegram refuses buttons that lead to a loopback address (make run's own site).
LOOPBACK = ("http://127.", "http://localhost", "http://[::1]")


def make_bot(token: str, api_url: str, poll_timeout_s: float = 30.0) -> ExtBot:
    """The Bot API client: a 429 is waited out for its retry_after (AIORateLimiter), a few times."""
    return ExtBot(
        token,
        base_url=f"{api_url}/bot",
        base_file_url=f"{api_url}/file/bot",
        rate_limiter=AIORateLimiter(max_retries=3),
        request=HTTPXRequest(connection_pool_size=8, read_timeout=60, write_timeout=60),
        get_updates_request=HTTPXRequest(read_timeout=poll_timeout_s + 10),
    )


class TelegramFront:
    def __init__(self, adapters: Adapters, scenes: SceneFlow, links: SiteLinks):
        self._adapters, self._scenes, self._links = adapters, scenes, links
        self._records, self._settings = adapters.records, adapters.settings
        #: Renders this process watches (the polling bot), with what their message says now.
        self.watching: dict[str, str] = {}

    # -- updates -------------------------------------------------------------------------

    async def handle(self, bot: Bot, update: Update) -> None:
        if update.message_reaction_count is not None:
            await self._reactions(bot, update.message_reaction_count)
        elif update.callback_query is not None:
            await self._button(bot, update.callback_query)
        elif update.message is not None and update.message.text and update.message.from_user:
            await self._message(bot, update.message)

    async def _message(self, bot: Bot, message: Message) -> None:
        text = message.text or ""
        if message.chat.type != ChatType.PRIVATE:
            if not _addressed(bot, message):
                return  # in a group the bot speaks only when spoken to
            text = text.replace(f"@{bot.username}", "").strip()
        person, language = await self._person(message)
        if not await self._within_rate(message.chat.id):
            return await self._slow_down(bot, message.chat.id, language)
        command, _, argument = text.partition(" ")
        command = command.split("@")[0].lower() if command.startswith("/") else ""
        chat = message.chat.id
        if command == "/start":
            name = message.from_user.first_name if message.from_user else ""
            await bot.send_message(chat, say(language, texts.HELLO, name=name))
        elif command == "/help":
            await bot.send_message(chat, say(language, texts.HELP))
        elif command == "/lang":
            await self._language(bot, chat, person, argument.strip().lower())
        elif command == "/my":
            await self._my(bot, chat, person, language)
        elif command == "/new" and not argument.strip():
            await self._call(lambda: self._records.set_chat(person.user_id, scene=""))  # the next text is a scene
            await bot.send_message(chat, say(language, texts.NEW_SCENE))
        elif command and command != "/new":
            await bot.send_message(chat, say(language, texts.HELP))
        else:
            await self._write(bot, chat, person, language, argument if command else text, new=bool(command))

    async def _write(self, bot: Bot, chat: int, person: Person, language: str, text: str, new: bool) -> None:
        """Plain text answers the question the chat is on, else it is a new scene (as `/new <scene>` always is)."""
        user = await self._call(self._records.get_user, person.user_id)
        scene = await self._scene_or_none(person, user.chat_scene if user else None)
        try:
            if scene is not None and scene.state == "asking" and not new:
                question = _next_question(scene)
                scene = await self._call(self._scenes.hold_answer, person.user_id, scene.id, question, text)
            else:
                scene = await self._call(self._scenes.create_scene, person.user_id, NewScene(text=text))
                await self._call(lambda: self._records.set_chat(person.user_id, scene=scene.id))
        except Exception as error:
            return await self._refusal(bot, chat, language, error)
        await self._show(bot, chat, person, language, scene)

    async def _show(self, bot: Bot, chat: int, person: Person, language: str, scene: Scene) -> None:
        """The next question, or the storyboard with its buttons."""
        if scene.state == "asking":
            question = _next_question(scene)
            asked = [q.id for q in scene.questions]
            number = asked.index(question) + 1
            keyboard = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(say(language, texts.SKIP), callback_data=f"skip:{scene.id}:{question}")],
                    [InlineKeyboardButton(say(language, texts.SKIP_ALL), callback_data=f"finish:{scene.id}")],
                ]
            )
            text = scene.questions[number - 1].text
            message = say(language, texts.QUESTION, number=number, count=len(asked), question=text)
            await bot.send_message(chat, message, reply_markup=keyboard)
            return
        storyboard = scene.storyboard
        assert storyboard is not None  # a ready scene has one
        lines = [say(language, texts.STORYBOARD, title=storyboard.title)]
        if storyboard.book:
            lines.append(storyboard.book + (f" ({storyboard.author})" if storyboard.author else ""))
        lines.append(say(language, texts.STYLE, style=storyboard.style))
        lines.append("")
        lines += [
            f"{shot.start_s:g} s: {shot.prompt}" + (f" ({shot.camera})" if shot.camera else "")
            for shot in storyboard.shots
        ]
        edit = self._links.open_url(person.user_id, person.name, f"/scenes/{scene.id}")
        buttons = [InlineKeyboardButton(say(language, texts.RENDER), callback_data=f"render:{scene.id}")]
        if edit.startswith(LOOPBACK):
            lines += ["", say(language, texts.EDIT_LINK, url=edit)]
        else:
            buttons.append(InlineKeyboardButton(say(language, texts.EDIT_ON_SITE), url=edit))
        await bot.send_message(chat, "\n".join(lines), reply_markup=InlineKeyboardMarkup([buttons]))

    async def _button(self, bot: Bot, query: CallbackQuery) -> None:
        await query.answer()
        message = query.message
        if message is None or not isinstance(message, Message) or not query.data:
            return
        chat = message.chat.id
        person = _person_of(query.from_user.id, query.from_user.full_name, chat)
        language = await self._language_of(person, query.from_user.language_code)
        if not await self._within_rate(chat):
            return await self._slow_down(bot, chat, language)
        action, _, rest = query.data.partition(":")
        try:
            if action == "skip":
                scene_id, _, question = rest.partition(":")
                scene = await self._call(self._scenes.hold_answer, person.user_id, scene_id, question, "")
                await self._show(bot, chat, person, language, scene)
            elif action == "finish":
                scene = await self._call(self._scenes.finish, person.user_id, rest)
                await self._show(bot, chat, person, language, scene)
            elif action == "render":
                await self._render(bot, chat, person, language, rest)
            elif action == "send":
                render = await self._call(self._scenes.render, person.user_id, rest)
                await self._send_clip(bot, chat, person, language, render)
        except Exception as error:
            await self._refusal(bot, chat, language, error)

    async def _render(self, bot: Bot, chat: int, person: Person, language: str, scene_id: str) -> None:
        render = await self._call(self._scenes.start_render, person, scene_id, RenderRequest())
        text = self._progress_text(render, language)
        progress = await bot.send_message(chat, text)
        binding = {"render_id": render.id, "chat_id": chat, "message_id": progress.message_id, "language": language}
        await self._call(self._records.add_dialogue_turn, scene_id, TURN, binding)
        self.watching[render.id] = text

    async def _language(self, bot: Bot, chat: int, person: Person, chosen: str) -> None:
        if chosen not in texts.LANGUAGES:
            language = await self._language_of(person, None)
            await bot.send_message(chat, say(language, texts.LANGUAGE_USAGE))
            return
        await self._call(lambda: self._records.set_chat(person.user_id, language=chosen))
        await bot.send_message(chat, say(chosen, texts.LANGUAGE_SET))

    async def _my(self, bot: Bot, chat: int, person: Person, language: str) -> None:
        renders = await self._call(self._records.list_renders, person.user_id, MY_CLIPS)
        if not renders:
            await bot.send_message(chat, say(language, texts.NO_CLIPS))
            return
        lines, buttons = [say(language, texts.YOUR_CLIPS)], []
        for number, render in enumerate(renders, 1):
            title = render.spec.storyboard.title
            lines.append(f"{number}. {title}: {say(language, _state_text(render))}")
            if render.state == "succeeded":
                label = f"{say(language, texts.SEND_AGAIN)} {number}"
                buttons.append([InlineKeyboardButton(label, callback_data=f"send:{render.id}")])
        await bot.send_message(chat, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons) if buttons else None)

    # -- renders: progress and delivery ----------------------------------------------------

    async def watch(self, bot: Bot) -> None:
        """One look at every render this process watches: progress edited, finished ones delivered."""
        for render_id in list(self.watching):
            try:
                if await self.deliver(bot, render_id):
                    self.watching.pop(render_id, None)
            except Exception:
                log.exception("telegram: could not report render %s", render_id)

    def watch_unfinished(self) -> None:
        """After a restart: the Telegram users' renders still in progress."""
        for entry in self._records.in_progress():
            if entry.user_id.startswith("telegram:"):
                self.watching.setdefault(entry.render_id, "")

    async def deliver(self, bot: Bot, render_id: str) -> bool:
        """Tells the render's chat where it stands: its progress message edited and, once it
        has finished, the clip sent (once, whoever asks). True once finished."""
        render = await self._call(self._records.get_render, render_id)
        if render is None:
            return True
        binding = await self._call(self._binding, render)
        if binding is None:
            return render.state in FINISHED
        chat, language = binding["chat_id"], binding["language"]
        text = self._progress_text(render, language)
        if render.state not in FINISHED:
            if self.watching.get(render_id) != text:
                await self._edit(bot, chat, binding["message_id"], text)
                self.watching[render_id] = text
            return False
        self.watching.pop(render_id, None)
        if not await self._call(self._first_delivery, render_id):
            return True
        await self._edit(bot, chat, binding["message_id"], text)
        if render.state == "succeeded":
            person = _person_of(int(render.user_id.removeprefix("telegram:")), None, chat)
            await self._send_clip(bot, chat, person, language, render)
        return True

    async def _send_clip(self, bot: Bot, chat: int, person: Person, language: str, render: Render) -> None:
        """The MP4 by sendVideo, streaming, with its title, book and author; a link to its page
        on the site when it is over what the Bot API takes. A person who blocked the bot is
        no failure of the render."""
        storage, key = self._adapters.storage, render.artifacts.get("video", "")
        size = await self._call(storage.size, key)
        local = await self._call(storage.local_file, key)
        url = None if local else await self._call(storage.download_url, key, "clip.mp4")
        if size is None or (local is None and url is None):
            return
        storyboard, spec = render.spec.storyboard, render.spec
        caption = _caption(storyboard.title, storyboard.book, storyboard.author, language)
        try:
            if not fits_telegram(size, by_url=local is None):
                page = self._links.open_url(person.user_id, person.name, f"/renders/{render.id}")
                await bot.send_message(chat, say(language, texts.TOO_LARGE, url=page))
                return
            video: Any = Path(local).read_bytes() if local else url
            await bot.send_video(
                chat,
                video,
                caption=caption,
                parse_mode=ParseMode.HTML,
                supports_streaming=True,
                duration=round(spec.duration_s),
                width=spec.width,
                height=spec.height,
                filename=f"{render.id}.mp4",
            )
        except Forbidden as error:
            log.info("telegram: chat %s blocked the bot; render %s is not sent (%s)", chat, render.id, error)

    def _progress_text(self, render: Render, language: str) -> str:
        if render.state == "succeeded":
            return say(language, texts.READY)
        if render.state == "failed":
            reason = failures.person_message(render.error, lambda text: say(language, text)) or ""
            return say(language, texts.FAILED, reason=reason)
        if render.state == "cancelled":
            return say(language, texts.CANCELLED)
        if render.state == "running":
            return say(language, texts.RENDERING, percent=int(render.progress * 10) * 10)
        standing = self._scenes.admission.standing(render, now())
        if standing is not None and standing.position:
            return say(language, texts.QUEUED_AT, ahead=standing.position)
        return say(language, texts.QUEUED)

    def _binding(self, render: Render) -> dict | None:
        if render.scene_id is None:
            return None
        turns = self._records.dialogue_turns(render.scene_id)
        found = [t["content"] for t in turns if t["role"] == TURN and t["content"].get("render_id") == render.id]
        return found[-1] if found else None

    def _first_delivery(self, render_id: str) -> bool:
        mark = Limit(f"telegram:delivered:{render_id}", 1, now() + DELIVERED_FOR)
        return self._adapters.counters.take([mark]) is None

    async def _edit(self, bot: Bot, chat: int, message_id: int, text: str) -> None:
        try:
            await bot.edit_message_text(text, chat_id=chat, message_id=message_id)
        except Forbidden as error:
            log.info("telegram: chat %s blocked the bot (%s)", chat, error)
        except BadRequest as error:  # the same text again, or a message deleted meanwhile
            log.info("telegram: progress message %s in chat %s not edited: %s", message_id, chat, error)

    # -- the channel ---------------------------------------------------------------------

    async def post_to_channel(self, bot: Bot, publication: Publication) -> None:
        """A clip published to the gallery, posted to the channel: title, book, author and a
        link to its gallery page."""
        channel = self._settings.telegram_channel_id
        render = await self._call(self._records.get_render, publication.render_id)
        if channel is None or render is None:
            return
        caption = "\n".join(
            [
                _caption(publication.title, publication.book, publication.author, "en"),
                texts.html_link(self._links.gallery_url(publication.render_id), say("en", texts.ON_THE_SITE)),
            ]
        )
        local = await self._call(self._adapters.storage.local_file, render.artifacts.get("video", ""))
        size = await self._call(self._adapters.storage.size, render.artifacts.get("video", "")) or 0
        url = None if local else await self._call(self._adapters.storage.download_url, render.artifacts["video"])
        if (local or url) and fits_telegram(size, by_url=local is None):
            video: Any = Path(local).read_bytes() if local else url
            await bot.send_video(
                channel, video, caption=caption, parse_mode=ParseMode.HTML, supports_streaming=True, filename="clip.mp4"
            )
        else:
            await bot.send_message(channel, caption, parse_mode=ParseMode.HTML)

    async def _reactions(self, bot: Bot, counts: MessageReactionCountUpdated) -> None:
        """A channel post's reaction counts, as a usage event with the channel's subscribers then."""
        tally: dict[str, int] = {}
        for reaction in counts.reactions:
            name = reaction.type.emoji if isinstance(reaction.type, ReactionTypeEmoji) else reaction.type.type
            tally[name] = tally.get(name, 0) + reaction.total_count
        subscribers = await bot.get_chat_member_count(counts.chat.id)
        event = UsageEvent(
            # One change of one post, the same on a redelivery of the update.
            event_id=f"channel-reaction-{counts.chat.id}-{counts.message_id}-{int(counts.date.timestamp())}",
            event_ts=counts.date,
            kind="channel_reaction",
            channel_id=str(counts.chat.id),
            post_id=counts.message_id,
            likes=tally.get(LIKE, 0),
            dislikes=tally.get(DISLIKE, 0),
            subscribers=subscribers,
            attributes={"channel": counts.chat.username or counts.chat.title, "reactions": tally},
        )
        await self._call(self._adapters.usage.record, event)

    # -- who, how fast, and what went wrong ------------------------------------------------

    async def _person(self, message: Message) -> tuple[Person, str]:
        sender = message.from_user
        assert sender is not None  # handle() takes only messages with a sender
        person = _person_of(sender.id, sender.full_name, message.chat.id)
        stored = await self._call(self._records.get_user, person.user_id)
        if stored is None or stored.name != sender.full_name:
            user = User(id=person.user_id, account=True, name=sender.full_name)
            await self._call(self._records.save_user, user)
            stored = await self._call(self._records.get_user, person.user_id)
        chosen = stored.language if stored else None
        return person, chosen or texts.language_of(sender.language_code)

    async def _language_of(self, person: Person, code: str | None) -> str:
        stored = await self._call(self._records.get_user, person.user_id)
        return (stored.language if stored else None) or texts.language_of(code)

    async def _within_rate(self, chat: int) -> bool:
        moment = now()
        minute = moment.replace(second=0, microsecond=0)
        limit = Limit(
            f"telegram:chat:{chat}:{minute:%Y%m%dT%H%M}",
            self._settings.telegram_chat_messages_per_minute,
            minute + timedelta(minutes=1),
        )
        return await self._call(self._adapters.counters.take, [limit]) is None

    async def _slow_down(self, bot: Bot, chat: int, language: str) -> None:
        minute = now().replace(second=0, microsecond=0)
        once = Limit(f"telegram:slowed:{chat}:{minute:%Y%m%dT%H%M}", 1, minute + timedelta(minutes=1))
        if await self._call(self._adapters.counters.take, [once]) is None:  # said once a minute, not to each
            await bot.send_message(chat, say(language, texts.SLOW_DOWN))

    async def _scene_or_none(self, person: Person, scene_id: str | None) -> Scene | None:
        if scene_id is None:
            return None
        try:
            return await self._call(self._scenes.scene, person.user_id, scene_id)
        except NotFound:
            return None

    async def _refusal(self, bot: Bot, chat: int, language: str, error: Exception) -> None:
        if isinstance(error, ValidationError):
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'text'}: {e['msg']}" for e in error.errors())
            message = say(language, texts.INVALID, problems=problems)
        elif isinstance(error, Refused):
            message = say(language, texts.REFUSED, reason=str(error))
        elif isinstance(error, QuotaExceeded):
            message = say(language, texts.QUOTA, limit=error.limit)
        elif isinstance(error, SpendCapReached):
            message = say(language, texts.SPEND_CAP)
        elif isinstance(error, Busy):
            message = say(language, texts.BUSY)
        elif isinstance(error, NotFound):
            message = say(language, texts.GONE)
        elif isinstance(error, NotReady):
            message = say(language, texts.NOT_NOW, reason=str(error))
        elif isinstance(error, NotInPlan):  # a longer clip (a remix, say) on the free plan
            message = say(language, texts.NOT_NOW, reason=say(language, error.template, **error.values))
        else:
            raise error
        await bot.send_message(chat, message)

    @staticmethod
    async def _call(function: Callable[..., Any], *args: Any) -> Any:
        """The flows and ports are blocking (SQLite, Firestore, a model): off the event loop."""
        return await asyncio.to_thread(function, *args)


def fits_telegram(size: int, by_url: bool) -> bool:
    """Whether the Bot API takes a video of this size: 50 MB uploaded, 20 MB by URL."""
    return size <= (URL_LIMIT_BYTES if by_url else UPLOAD_LIMIT_BYTES)


def _caption(title: str, book: str | None, author: str | None, language: str) -> str:
    """Title, book and author in Telegram's HTML, every value escaped: sent as written."""
    lines = [f"<b>{texts.html_text(title)}</b>"]
    if book:
        lines.append(f"<i>{texts.html_text(book)}</i>")
    if author:
        lines.append(texts.html_text(say(language, texts.BY, author=author)))
    return "\n".join(lines)


def _person_of(telegram_id: int, name: str | None, chat: int) -> Person:
    """A Telegram user is an account; the chat stands where a browser's address would."""
    return Person(user_id=f"telegram:{telegram_id}", account=True, address=f"telegram-chat:{chat}", name=name)


def _next_question(scene: Scene) -> str:
    return next(q.id for q in scene.questions if q.id not in scene.held_answers)


def _state_text(render: Render) -> str:
    if render.state == "succeeded":
        return texts.STATE_SUCCEEDED
    if render.state == "failed":
        return texts.STATE_FAILED
    if render.state == "cancelled":
        return texts.STATE_CANCELLED
    return texts.STATE_UNFINISHED


def _addressed(bot: Bot, message: Message) -> bool:
    """In a group: a command or a mention naming the bot, or a reply to one of its messages."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    name = f"@{bot.username}".lower()
    mentions = message.parse_entities([MessageEntityType.MENTION, MessageEntityType.BOT_COMMAND]).values()
    return any(mention.lower().endswith(name) for mention in mentions)
