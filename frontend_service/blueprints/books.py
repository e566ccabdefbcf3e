"""The book pages: start a book, write its scenes in its look, order them under chapter
labels, and ask for its reel. Plain forms (a POST, then the page again), so every step
works from the keyboard, on a phone and without the script; the reel plays on its render
page, with its subtitle track, like any clip."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from pydantic import ValidationError

from frontend_service import services
from frontend_service.book_flow import BookChanges, NewBook, NewBookScene
from frontend_service.flow import MAX_SCENE_CHARS
from frontend_service.forms import whole_number
from frontend_service.i18n import field_errors
from frontend_service.identity import current_person, current_user
from frontend_service.middleware.security import limiter
from infra.domain.book import MAX_BOOK_SCENES, Book, Chapter

bp = Blueprint("books", __name__, url_prefix="/books")


def _aspects() -> list[tuple[str, str]]:
    return [
        ("16:9", gettext("Widescreen 16:9")),
        ("9:16", gettext("Upright 9:16 (a phone)")),
        ("1:1", gettext("Square 1:1")),
    ]


def _cast(text: str) -> list[dict[str, str]]:
    """One character or place a line: "Name: how it looks" (the look may be left out)."""
    cast = []
    for line in text.splitlines():
        if line.strip():
            name, _, look = line.partition(":")
            cast.append({"name": name.strip(), "look": look.strip()})
    return cast


def _cast_text(cast) -> str:
    return "\n".join(f"{member.name}: {member.look}" if member.look else member.name for member in cast)


def _errors(error: ValidationError) -> dict[str, str]:
    """Each message under the form field it belongs to (bible.characters.0.name -> characters)."""
    errors: dict[str, str] = {}
    for item in field_errors(error):
        field = re.sub(r"^bible\.", "", item.field).split(".")[0]
        errors.setdefault(field, item.message)
    return errors


def _book_form() -> tuple[dict[str, str], dict]:
    form = {
        name: request.form.get(name, "")
        for name in ("title", "author", "aspect", "style", "period", "characters", "places", "seed_policy", "seed")
    }
    data = {
        "title": form["title"],
        "author": form["author"],
        "aspect": form["aspect"] or "16:9",
        "bible": {
            "characters": _cast(form["characters"]),
            "places": _cast(form["places"]),
            "style": form["style"],
            "period": form["period"],
        },
        "seed_policy": form["seed_policy"] or "shared",
        "seed": whole_number(form["seed"]) if form["seed"].strip() else 0,
    }
    return form, data


@bp.get("")
def index():
    books = services.book_flow().books(current_user())
    return render_template("books.html", books=books, form={}, errors={}, aspects=_aspects())


@bp.post("")
def create():
    form, data = _book_form()
    try:
        new = NewBook.model_validate(data)
    except ValidationError as error:
        books = services.book_flow().books(current_user())
        page = render_template("books.html", books=books, form=form, errors=_errors(error), aspects=_aspects())
        return page, 422
    book = services.book_flow().create(current_user(), new)
    return redirect(url_for("books.page", book_id=book.id), code=303)


def _page(book: Book, errors: dict[str, str] | None = None, scene_form: dict | None = None, status: int = 200):
    flow = services.book_flow()
    clips, reel = flow.latest(book)
    rows = list(zip(book.chapters, flow.scenes(book), strict=True))
    form = {
        "title": book.title,
        "author": book.author,
        "aspect": book.aspect,
        "style": book.bible.style,
        "period": book.bible.period,
        "characters": _cast_text(book.bible.characters),
        "places": _cast_text(book.bible.places),
        "seed_policy": book.seed_policy,
        "seed": str(book.seed),
    }
    page = render_template(
        "book.html",
        book=book,
        rows=rows,
        clips=clips,
        reel=reel,
        form=form,
        errors=errors or {},
        scene_form=scene_form or {},
        aspects=_aspects(),
        max_scenes=MAX_BOOK_SCENES,
        max_scene_chars=MAX_SCENE_CHARS,
    )
    return page, status


@bp.get("/<book_id>")
def page(book_id: str):
    return _page(services.book_flow().book(current_user(), book_id))


@bp.post("/<book_id>")
def change(book_id: str):
    """The book's own form: its title, author, shape, bible and seed policy."""
    flow, user = services.book_flow(), current_user()
    book = flow.book(user, book_id)
    _, data = _book_form()
    try:
        flow.change(user, book_id, BookChanges.model_validate(data))
    except ValidationError as error:
        return _page(book, errors=_errors(error), status=422)
    return redirect(url_for("books.page", book_id=book_id), code=303)


@bp.post("/<book_id>/chapters")
def chapters(book_id: str):
    """The chapter labels, and a scene moved one place up or down (the button pressed)."""
    flow, user = services.book_flow(), current_user()
    book = flow.book(user, book_id)
    order = [
        Chapter.model_construct(
            scene_id=chapter.scene_id, chapter=request.form.get(f"chapter-{index}", chapter.chapter)
        )
        for index, chapter in enumerate(book.chapters)
    ]
    scene_id, _, direction = request.form.get("move", "").partition(":")
    ids = [chapter.scene_id for chapter in order]
    if scene_id in ids:
        at = ids.index(scene_id)
        to = at - 1 if direction == "up" else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    data = {"chapters": [chapter.model_dump() for chapter in order]}
    try:
        flow.change(user, book_id, BookChanges.model_validate(data))
    except ValidationError as error:
        return _page(book, errors=_errors(error), status=422)
    return redirect(url_for("books.page", book_id=book_id, _anchor="scenes"), code=303)


@bp.post("/<book_id>/scenes")
@limiter.limit(lambda: current_app.config["DIALOGUE_RATE_LIMIT"])
def add_scene(book_id: str):
    flow, user = services.book_flow(), current_user()
    book = flow.book(user, book_id)
    form = {name: request.form.get(name, "") for name in ("text", "passage", "chapter")}
    try:
        new = NewBookScene.model_validate(
            {name: value or None for name, value in form.items()} | {"chapter": form["chapter"]}
        )
    except ValidationError as error:
        return _page(book, errors=_errors(error), scene_form=form, status=422)
    scene = flow.add_scene(user, book_id, new)
    return redirect(url_for("scenes.scene", scene_id=scene.id), code=303)


@bp.post("/<book_id>/reel")
@limiter.limit(lambda: current_app.config["RENDER_RATE_LIMIT"])
def reel(book_id: str):
    render = services.book_flow().start_reel(current_person(), book_id)
    return redirect(url_for("renders.page", render_id=render.id), code=303)
