"""The scene-to-clip flow, as the website's API and pages use it.

A scene is written, the dialogue engine asks about it, the person answers or skips,
edits the storyboard, and starts a render of it. Everything here works on records
through the adapters; nothing here knows about HTTP.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from frontend_service.admission import Admission
from frontend_service.dialogue.engine import (
    MAX_QUESTIONS,
    MAX_ROUNDS,
    DialogueEngine,
    DialogueStep,
    ModelCall,
    Refused,
)
from frontend_service.dialogue.language import language_of
from frontend_service.identity import Person
from infra.bootstrap import Adapters
from infra.domain.book import Book
from infra.domain.ids import now
from infra.domain.presets import DEFAULT_PRESET, PresetName
from infra.domain.pricing import token_cost
from infra.domain.render import FINISHED, Render
from infra.domain.scene import Scene
from infra.domain.storyboard import MAX_SEED, Storyboard, resolve_spec
from infra.domain.text import Text, VisibleText
from infra.domain.usage import UsageEvent

MAX_SCENE_CHARS = 4000


class NewScene(BaseModel):
    text: VisibleText = Field(min_length=1, max_length=MAX_SCENE_CHARS)
    book: Text | None = Field(default=None, max_length=200)
    author: Text | None = Field(default=None, max_length=200)
    passage: Text | None = Field(default=None, max_length=MAX_SCENE_CHARS)


class Answers(BaseModel):
    answers: dict[str, Text] = Field(max_length=MAX_QUESTIONS * MAX_ROUNDS)


class RenderRequest(BaseModel):
    preset: PresetName = DEFAULT_PRESET
    seed: int | None = Field(
        default=None,
        strict=True,
        ge=0,
        le=MAX_SEED,
        description="render with this seed instead of the storyboard's (render again, a new take)",
    )
    keep_preset: bool = Field(
        default=False,
        strict=True,
        description="wait for this preset even when the queue is long (else a long queue gives the fastest preset)",
    )


class PromptTexts(BaseModel):
    texts: list[Text] = Field(max_length=20)


class Refusal(Exception):
    """A request the use case turns down, with a message for the person: an English
    template (in the catalogue: pybabel extracts these classes' first arguments) and its
    values, so the site answers in the person's language (blueprints/errors.py)."""

    def __init__(self, template: str, **values: object):
        super().__init__(template % values if values else template)
        self.template, self.values = template, values


class NotFound(Refusal):
    """No such scene or render for this person (others' are not shown either)."""


class NotReady(Refusal):
    """The step asked for cannot happen yet; the message says what comes first."""


class NotInPlan(Refusal):
    """The person's plan does not allow what was asked (a clip length)."""


class StaleStoryboard(Exception):
    """The storyboard was saved elsewhere (another tab) since this version was read."""

    def __init__(self, version: int):
        super().__init__(f"the storyboard is at version {version}")
        self.version = version


class SceneFlow:
    def __init__(self, adapters: Adapters, engine: DialogueEngine):
        self._adapters = adapters
        self._records = adapters.records
        self._engine = engine
        self.admission = Admission(adapters)

    def create_scene(self, user_id: str, request: NewScene, book: Book | None = None) -> Scene:
        """A new scene; one written in a book starts from the book's bible and takes its title
        and author (BookFlow.add_scene)."""
        scene = Scene(user_id=user_id, **request.model_dump())
        if book is not None:
            scene.book_id, scene.book, scene.author = book.id, book.title, book.author or scene.author
            scene.bible = {"book": book.bible.model_dump()}
        return self._advance(scene, user_turn={"scene": request.model_dump()})

    def answer(self, user_id: str, scene_id: str, request: Answers) -> Scene:
        scene = self.scene(user_id, scene_id)
        if scene.state == "ready":
            raise NotReady("this scene already has its storyboard; edit the storyboard instead")
        asked = {question.id for question in scene.questions}
        unknown = sorted(set(request.answers) - asked)
        if unknown:
            raise NotReady(
                "there is no question %(unknown)s for this scene; answer %(asked)s",
                unknown=", ".join(unknown),
                asked=", ".join(asked),
            )
        scene.answers.update({key: value for key, value in request.answers.items() if value})
        scene.rounds += 1
        return self._advance(scene, user_turn={"answers": request.answers})

    def hold_answer(self, user_id: str, scene_id: str, question_id: str, text: str) -> Scene:
        """One answer, as a chat gives them: kept on the scene until every question of the
        round has one, then answered together as one round (as the site sends them)."""
        scene = self.scene(user_id, scene_id)
        if scene.state == "ready":
            raise NotReady("this scene already has its storyboard; edit the storyboard instead")
        asked = [question.id for question in scene.questions]
        if question_id not in asked:
            raise NotReady(f"there is no question {question_id} for this scene; answer {', '.join(asked)}")
        held = scene.held_answers | Answers(answers={question_id: text}).answers
        if any(question not in held for question in asked):
            scene.held_answers, scene.updated_at = held, now()
            self._records.save_scene(scene)
            return scene
        return self.answer(user_id, scene_id, Answers(answers=held))

    def finish(self, user_id: str, scene_id: str) -> Scene:
        scene = self.scene(user_id, scene_id)
        if scene.state == "ready":
            return scene
        return self._advance(scene, finish=True)

    def save_storyboard(self, user_id: str, scene_id: str, data: object, versions: set[int] | None = None) -> Scene:
        """Validates, moderates and stores an edited storyboard; raises ValidationError or
        Refused, storing nothing. With `versions` (the If-Match the page sends) it stores
        only over one of them, else raises StaleStoryboard: two tabs never silently
        overwrite each other. Without, the last save wins (older API clients)."""
        scene = self.scene(user_id, scene_id)
        if versions is not None and scene.version not in versions:
            raise StaleStoryboard(scene.version)
        plan = self.admission.plan(user_id)
        storyboard = Storyboard.model_validate(data, context={"clip_lengths": plan.clip_seconds})
        texts = [storyboard.title, storyboard.style, *(shot.prompt for shot in storyboard.shots)]
        texts += [shot.quote for shot in storyboard.shots if shot.quote]  # an edited line is the person's own
        try:
            calls = self._engine.moderate(texts, language=language_of(scene.text))
        except Refused as refused:
            self._record_calls(scene, refused.calls)
            raise
        self._record_calls(scene, calls)
        while True:
            read = scene.version
            scene.storyboard, scene.state, scene.updated_at, scene.version = storyboard, "ready", now(), read + 1
            if self._records.replace_scene(scene, read):
                return scene
            scene = self.scene(user_id, scene_id)  # saved meanwhile
            if versions is not None and scene.version not in versions:
                raise StaleStoryboard(scene.version)

    def start_render(self, person: Person, scene_id: str, request: RenderRequest) -> Render:
        """Starts a render of the scene's storyboard, once the spend breaker and the
        person's quotas let it in; a refused request stores and counts nothing."""
        scene = self.scene(person.user_id, scene_id)
        if scene.storyboard is None:
            raise NotReady("this scene has no storyboard yet: answer the questions or skip to the storyboard first")
        settings, admission, moment = self._adapters.settings, self.admission, now()
        admission.check_spend(person, moment)
        preset = admission.preset_for(person, request.preset, request.keep_preset, moment)
        storyboard = scene.storyboard
        allowed = self.admission.plan(person.user_id).clip_seconds
        if storyboard.clip_seconds not in allowed:  # saved on a plan the account has since left
            raise NotInPlan(
                "your plan allows clips of %(allowed)s s, not %(length)s s: choose one of those in the storyboard, "
                "or ask an admin for a plan with longer clips",
                allowed=", ".join(str(length) for length in allowed),
                length=storyboard.clip_seconds,
            )
        if request.seed is not None:  # a new take: the spec and its storyboard say the seed it was made with
            storyboard = storyboard.model_copy(update={"seed": request.seed})
        spec = resolve_spec(storyboard, preset, base_model=settings.model, motion_adapter=settings.motion_adapter)
        render = Render(
            user_id=person.user_id,
            scene_id=scene.id,
            spec=spec,
            requested_preset=request.preset if preset != request.preset else None,
        )
        render.quota = admission.take_quota(person, moment)
        try:
            self._records.create_render(render)
            self._adapters.queue.submit(render.id)
        except BaseException:
            # Nothing half-stored: no render without its request, no quota spent on a render not there.
            self._records.delete_render(render.id)
            admission.give_back(render)
            raise
        admission.forget_queue()
        return render

    def cancel_render(self, person: Person, render_id: str) -> Render:
        """Stops a queued or running render and gives its quota back (admission.give_back
        says when); a finished one is left as it is (NotReady). Cancelling twice changes
        nothing the second time."""
        user_id = person.user_id
        render = self.render(user_id, render_id)
        cancelled_from = self._records.cancel(render_id) if render.state not in FINISHED else None
        if cancelled_from is not None:
            # Only the request that cancelled it gives its quota back: exactly once. Whether a
            # job had started is the state it was cancelled from, not the one read above (a job
            # may have started in between), or an attempt already run: a render whose attempt
            # stopped waits, queued again, for the job's retry, its GPU time spent.
            started = cancelled_from != "queued" or render.attempts > 0
            self._adapters.queue.withdraw(render_id)
            self.admission.give_back(render, person if started else None)
            self.admission.forget_queue()
            return self.render(user_id, render_id)
        render = self.render(user_id, render_id)  # it finished, or was cancelled, meanwhile
        if render.state == "cancelled":
            return render
        raise NotReady("this render has already finished: there is nothing to cancel; delete it instead")

    def scene(self, user_id: str, scene_id: str) -> Scene:
        scene = self._records.get_scene(scene_id)
        if scene is None or scene.user_id != user_id:
            raise NotFound("no such scene")
        return scene

    def render(self, user_id: str, render_id: str) -> Render:
        render = self._records.get_render(render_id)
        if render is None or render.user_id != user_id:
            raise NotFound("no such render")
        return render

    def _advance(self, scene: Scene, finish: bool = False, user_turn: dict | None = None) -> Scene:
        """Asks the engine first and stores after: a refused or failed turn stores nothing."""
        try:
            step = self._engine.next_step(scene, finish=finish or scene.rounds >= MAX_ROUNDS)
        except Refused as refused:
            self._record_calls(scene, refused.calls)
            raise
        self._apply(scene, step)
        scene.version += 1
        self._records.save_scene(scene)
        if user_turn is not None:
            self._records.add_dialogue_turn(scene.id, "user", user_turn)
        self._records.add_dialogue_turn(
            scene.id,
            "engine",
            {
                "questions": [q.model_dump() for q in step.questions],
                "storyboard": step.storyboard and step.storyboard.model_dump(mode="json"),
                "bible": step.bible,
                "notice": step.notice,
            },
        )
        self._record_calls(scene, step.calls)
        return scene

    def _record_calls(self, scene: Scene, calls: list[ModelCall]) -> None:
        for call in calls:
            cost, pricing = token_cost(call.model, call.tokens_in, call.tokens_out)
            self._adapters.usage.record(
                UsageEvent(
                    kind=call.kind,
                    user_id=scene.user_id,
                    scene_id=scene.id,
                    model=call.model,
                    tokens_in=call.tokens_in,
                    tokens_out=call.tokens_out,
                    status=call.status,
                    cost_usd=cost,
                    pricing_version=pricing,
                    attributes={"engine": self._engine.name},
                )
            )

    def _apply(self, scene: Scene, step: DialogueStep) -> None:
        scene.engine, scene.notice, scene.updated_at = step.engine or self._engine.name, step.notice, now()
        scene.held_answers = {}
        if step.bible is not None:
            book_bible = (scene.bible or {}).get("book")
            scene.bible = step.bible | ({"book": book_bible} if book_bible is not None else {})
        if step.storyboard is not None:
            storyboard = step.storyboard
            book = self._records.get_book(scene.book_id) if scene.book_id else None
            if book is not None:  # the book's cast, style, shape and seed, as in its other scenes
                storyboard = book.dress(storyboard, scene.id)
            scene.storyboard, scene.state, scene.questions = storyboard, "ready", []
        else:
            scene.questions, scene.state = step.questions, "asking"
