"""The records contract for book projects, and a reel's render: on SQLite and on Firestore's emulator."""

from datetime import timedelta

from infra.domain.book import Book, BookBible, Chapter, Described
from infra.domain.ids import now
from infra.domain.reel import Reel, ReelPart
from infra.domain.render import Render
from infra.domain.storyboard import Storyboard, resolve_spec


def a_book(user_id: str = "reader-1", **fields) -> Book:
    return Book(
        user_id=user_id,
        title="Crime and Punishment",
        author="Fyodor Dostoevsky",
        aspect="16:9",
        bible=BookBible(
            characters=[Described(name="Raskolnikov", look="gaunt young man in a worn student's coat")],
            places=[Described(name="Haymarket", look="crowded square, taverns")],
            period="St Petersburg, 1860s",
            style="ink and watercolour",
        ),
        seed_policy="per_scene",
        seed=41,
        chapters=[Chapter(scene_id="s1", chapter="Part One"), Chapter(scene_id="s2", chapter="Part Two")],
        **fields,
    )


def test_a_book_is_stored_whole(records):
    book = a_book()
    records.save_book(book)
    assert records.get_book(book.id) == book
    assert records.get_book("no-such-book") is None


def test_books_are_listed_per_person_the_latest_changed_first(records):
    older = a_book(updated_at=now() - timedelta(hours=1))
    newer = a_book(updated_at=now())
    someone_elses = a_book("reader-2")
    for book in (older, newer, someone_elses):
        records.save_book(book)
    assert [book.id for book in records.list_books("reader-1")] == [newer.id, older.id]
    assert [book.id for book in records.list_books("reader-1", limit=1)] == [newer.id]
    assert records.list_books("nobody") == []


def test_of_two_edits_from_one_version_one_wins(records):
    book = a_book()
    records.save_book(book)
    first = book.model_copy(update={"title": "First edit", "version": 1})
    second = book.model_copy(update={"title": "Second edit", "version": 1})
    assert records.replace_book(first, 0)
    assert not records.replace_book(second, 0)
    assert records.get_book(book.id).title == "First edit"
    assert not records.replace_book(a_book().model_copy(update={"version": 1}), 0)  # no such book
    assert records.get_book(book.id).version == 1


def test_signing_in_takes_the_books_along(records):
    book = a_book("anon-1")
    records.save_book(book)
    records.transfer_work("anon-1", "local:reader@example.com")
    assert records.list_books("anon-1") == []
    moved = records.list_books("local:reader@example.com")
    assert [(b.id, b.user_id) for b in moved] == [(book.id, "local:reader@example.com")]


def test_a_reel_render_keeps_its_parts(records, storyboard_data):
    reel = Reel(
        book_id="b1",
        title="Crime and Punishment",
        author="Fyodor Dostoevsky",
        parts=[
            ReelPart(scene_id="s1", render_id="r1", chapter="Part One", duration_s=15.0),
            ReelPart(scene_id="s2", render_id="r2", chapter="Part Two", duration_s=15.0),
        ],
    )
    render = Render(user_id="reader-1", spec=resolve_spec(Storyboard.model_validate(storyboard_data)), reel=reel)
    records.create_render(render)
    assert records.get_render(render.id).reel == reel
    plain = Render(user_id="reader-1", spec=render.spec)
    records.create_render(plain)
    assert records.get_render(plain.id).reel is None
