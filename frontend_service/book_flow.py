"""A whole book: a project of several scenes that share one cast and look, and its reel.

A person makes a book (title, author, the frame's shape, a bible of characters, places,
period and style, a seed policy), writes its scenes (each starts from the book's bible,
and every storyboard drafted for it is dressed in the book's look: `Book.dress`), orders
them under chapter labels, renders each, and asks for the reel: once every scene has a
finished clip, one render joins them with title cards (animate_job/reel.py). Nothing
here knows about HTTP.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from frontend_service.flow import NewScene, NotFound, NotReady, SceneFlow
from frontend_service.identity import Person
from infra.bootstrap import Adapters
from infra.domain.book import (
    MAX_BOOK_SCENES,
    MAX_CHAPTER_CHARS,
    Book,
    Chapter,
    SeedPolicy,
    SentBookBible,
)
from infra.domain.ids import now
from infra.domain.presets import DEFAULT_ASPECT, Aspect
from infra.domain.reel import Reel, ReelPart
from infra.domain.render import FINISHED, Render
from infra.domain.scene import Scene
from infra.domain.storyboard import MAX_SEED, MAX_TITLE_CHARS, RenderSpec
from infra.domain.text import Text, VisibleText

#: How many of a person's renders are looked through for each scene's latest finished clip.
RENDERS_LOOKED_AT = 500


class NewBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: VisibleText = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    author: Text = Field(default="", max_length=200)
    aspect: Aspect = DEFAULT_ASPECT
    bible: SentBookBible = Field(default_factory=SentBookBible)
    seed_policy: SeedPolicy = "shared"
    seed: int = Field(default=0, strict=True, ge=0, le=MAX_SEED)


class BookChanges(BaseModel):
    """What a person changes in a book; what is left out stays. `chapters` is the whole new
    order: the book's scenes, each once, under their labels."""

    model_config = ConfigDict(extra="forbid")

    title: VisibleText | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    author: Text | None = Field(default=None, max_length=200)
    aspect: Aspect | None = None
    bible: SentBookBible | None = None
    seed_policy: SeedPolicy | None = None
    seed: int | None = Field(default=None, strict=True, ge=0, le=MAX_SEED)
    chapters: list[Chapter] | None = Field(default=None, max_length=MAX_BOOK_SCENES)


class NewBookScene(NewScene):
    model_config = ConfigDict(extra="forbid")

    chapter: Text = Field(default="", max_length=MAX_CHAPTER_CHARS)


class BookFlow:
    def __init__(self, adapters: Adapters, scenes: SceneFlow):
        self._adapters = adapters
        self._records = adapters.records
        self._scenes = scenes

    def create(self, user_id: str, request: NewBook) -> Book:
        book = Book(user_id=user_id, **request.model_dump())
        self._records.save_book(book)
        return book

    def book(self, user_id: str, book_id: str) -> Book:
        book = self._records.get_book(book_id)
        if book is None or book.user_id != user_id:
            raise NotFound("no such book")
        return book

    def books(self, user_id: str) -> list[Book]:
        return self._records.list_books(user_id)

    def scenes(self, book: Book) -> list[Scene | None]:
        """The book's scenes in its order (None for one that is no longer there)."""
        return [self._records.get_scene(scene_id) for scene_id in book.scene_ids()]

    def latest(self, book: Book) -> tuple[dict[str, Render], Render | None]:
        """Each scene's latest render (any state), and the book's latest reel."""
        clips: dict[str, Render] = {}
        reel: Render | None = None
        for render in self._records.list_renders(book.user_id, limit=RENDERS_LOOKED_AT):  # newest first
            if render.reel is not None:
                if reel is None and render.reel.book_id == book.id:
                    reel = render
            elif render.scene_id in book.scene_ids():
                clips.setdefault(render.scene_id, render)
        return clips, reel

    def change(self, user_id: str, book_id: str, changes: BookChanges) -> Book:
        """Applies the changes over the stored book (compare-and-set, read again when
        another change came first). A new order may leave a scene out, and bring it back
        later, but holds only scenes written in this book: a scene joins a book only by
        being written in it (so it has the book's look)."""
        updates = changes.model_dump(exclude_none=True)
        if changes.chapters is not None:
            updates["chapters"] = changes.chapters
        while True:
            book = self.book(user_id, book_id)
            for chapter in changes.chapters or []:
                if chapter.scene_id not in book.scene_ids():  # left out of the order before: it may come back
                    scene = self._records.get_scene(chapter.scene_id)
                    if scene is None or scene.user_id != user_id or scene.book_id != book.id:
                        raise NotFound("this book has no scene %(scene)s", scene=chapter.scene_id)
            changed = Book.model_validate(
                book.model_dump() | updates | {"version": book.version + 1, "updated_at": now()}
            )
            if self._records.replace_book(changed, book.version):
                return changed

    def add_scene(self, user_id: str, book_id: str, request: NewBookScene) -> Scene:
        """A new scene of the book, last in its order: it starts from the book's bible, and
        its storyboard, once drafted, is in the book's look."""
        book = self.book(user_id, book_id)
        if len(book.chapters) >= MAX_BOOK_SCENES:
            raise NotReady("a book holds at most %(count)s scenes: start another book", count=MAX_BOOK_SCENES)
        scene_request = NewScene.model_validate(request.model_dump(exclude={"chapter"}))
        scene = self._scenes.create_scene(user_id, scene_request, book=book)
        while True:
            chapters = [*book.chapters, Chapter(scene_id=scene.id, chapter=request.chapter)]
            changed = book.model_copy(update={"chapters": chapters, "version": book.version + 1, "updated_at": now()})
            if self._records.replace_book(changed, book.version):
                return scene
            book = self.book(user_id, book_id)
            if len(book.chapters) >= MAX_BOOK_SCENES:  # filled meanwhile: the scene stays, outside the book
                raise NotReady("a book holds at most %(count)s scenes: start another book", count=MAX_BOOK_SCENES)

    def start_reel(self, person: Person, book_id: str) -> Render:
        """Queues the reel of the book's scenes, in order, each scene's latest finished clip;
        refuses (storing nothing) an empty book, a scene without a finished clip, clips of
        different frame shapes, and any reel once the day's render budget is spent (its job
        is billed like a clip's). A reel takes no render from the daily quota: it makes no
        new animation. Asked for again while one of the book's reels is still being made (a
        double-click, a script's retry), it is that reel: one job, not two."""
        user_id = person.user_id
        book = self.book(user_id, book_id)
        if not book.chapters:
            raise NotReady("this book has no scenes yet: write its scenes and render them before its reel")
        finished: dict[str, Render] = {}
        for render in self._records.list_renders(user_id, limit=RENDERS_LOOKED_AT):  # newest first
            if render.reel is not None and render.reel.book_id == book.id and render.state not in FINISHED:
                return render
            if render.state == "succeeded" and render.reel is None and render.scene_id:
                finished.setdefault(render.scene_id, render)
        parts: list[ReelPart] = []
        clips: list[Render] = []
        for number, chapter in enumerate(book.chapters, start=1):
            scene = self._records.get_scene(chapter.scene_id)
            if scene is None or scene.user_id != user_id:
                raise NotFound("scene %(number)s of this book is no longer there", number=number)
            clip = finished.get(scene.id)
            if clip is None or "video" not in clip.artifacts:
                raise NotReady(
                    "scene %(number)s (%(chapter)s) has no finished clip yet: render it and wait until it is ready",
                    number=number,
                    chapter=chapter.chapter or scene.text[:40],
                )
            parts.append(
                ReelPart(scene_id=scene.id, render_id=clip.id, chapter=chapter.chapter, duration_s=clip.spec.duration_s)
            )
            clips.append(clip)
        shapes = {clip.spec.storyboard.aspect for clip in clips}
        if len(shapes) > 1:
            raise NotReady(
                "the clips have different frame shapes (%(shapes)s): render every scene at the book's %(aspect)s first",
                shapes=", ".join(sorted(shapes)),
                aspect=book.aspect,
            )
        self._scenes.admission.check_spend(person, now())
        reel = Reel(book_id=book.id, title=book.title, author=book.author, parts=parts)
        render = Render(user_id=user_id, spec=_reel_spec(clips[0].spec, book, reel), reel=reel)
        try:
            self._records.create_render(render)
            self._adapters.queue.submit(render.id)
        except BaseException:
            self._records.delete_render(render.id)  # nothing half-stored: no reel without its request
            raise
        self._scenes.admission.forget_queue()
        return render


def _reel_spec(first: RenderSpec, book: Book, reel: Reel) -> RenderSpec:
    """The reel's spec: the first clip's (its size and frame rates: the others are scaled to
    it), under the book's title, as long as the reel."""
    storyboard = first.storyboard.model_copy(update={"title": book.title, "book": book.title, "author": book.author})
    data = first.model_dump() | {
        "storyboard": storyboard.model_dump(),
        "duration_s": reel.duration_s,
        "frames": round(reel.duration_s * first.fps_render),
    }
    return RenderSpec.model_validate(data)
