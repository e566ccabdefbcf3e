"""The gallery contract: publishing, paging and filters, votes, reports and remixes, on
SQLite and on Firestore's emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.domain.ids import now
from infra.domain.publication import REVIEW_AFTER_REPORTS, GalleryFilter, Publication
from infra.domain.render import Render
from infra.domain.storyboard import Storyboard, resolve_spec

EVERYTHING = GalleryFilter()


@pytest.fixture
def publish(records, gallery, storyboard_data):
    """Makes a render and publishes it; minutes_ago spaces out publication times."""

    def make(title="A clip", book=None, author=None, style="watercolour", minutes_ago=0, owner="Reader"):
        render = Render(user_id=f"owner-{title}", spec=resolve_spec(Storyboard.model_validate(storyboard_data)))
        records.create_render(render)
        return gallery.publish(
            Publication(
                render_id=render.id,
                owner_id=render.user_id,
                owner=owner,
                title=title,
                book=book,
                author=author,
                style=style,
                published_at=now() - timedelta(minutes=minutes_ago),
            )
        )

    return make


def test_a_publication_is_stored_whole_and_listed(gallery, publish):
    clip = publish(title="Neva at dusk", book="Crime and Punishment", author="Dostoevsky")
    assert gallery.get(clip.render_id) == clip
    items, more = gallery.page("new", EVERYTHING, 1)
    assert [item.render_id for item in items] == [clip.render_id] and not more


def test_a_clip_without_a_style_is_published_and_found(gallery, publish):
    plain = publish(title="Plain", style="")
    assert gallery.get(plain.render_id).style == ""
    assert [p.render_id for p in gallery.page("new", EVERYTHING, 1)[0]] == [plain.render_id]
    assert gallery.page("new", GalleryFilter(style="watercolour"), 1)[0] == []


def test_new_sorts_by_time_and_top_by_score(gallery, publish):
    old, middle, _ = (publish(title=t, minutes_ago=m) for t, m in (("old", 30), ("middle", 20), ("recent", 10)))
    gallery.vote(old.render_id, "u1", 1)
    gallery.vote(old.render_id, "u2", 1)
    gallery.vote(middle.render_id, "u1", 1)
    assert [p.title for p in gallery.page("new", EVERYTHING, 1)[0]] == ["recent", "middle", "old"]
    assert [p.title for p in gallery.page("top", EVERYTHING, 1)[0]] == ["old", "middle", "recent"]


def test_pages_follow_each_other(gallery, publish):
    titles = [publish(title=f"clip {i}", minutes_ago=i).title for i in range(5)]
    first, more = gallery.page("new", EVERYTHING, 1, page_size=2)
    second, more_after_second = gallery.page("new", EVERYTHING, 2, page_size=2)
    third, more_after_third = gallery.page("new", EVERYTHING, 3, page_size=2)
    assert [p.title for p in first + second + third] == titles
    assert (more, more_after_second, more_after_third) == (True, True, False)


def test_filters_by_book_author_and_style_ignoring_case(gallery, publish):
    crime = publish(title="bridge", book="Crime and Punishment", author="Dostoevsky", style="ink")
    publish(title="ball", book="War and Peace", author="Tolstoy", style="ink")
    assert [p.render_id for p in gallery.page("new", GalleryFilter(book="crime and  punishment"), 1)[0]] == [
        crime.render_id
    ]
    assert len(gallery.page("new", GalleryFilter(style="INK"), 1)[0]) == 2
    assert gallery.page("new", GalleryFilter(author="Tolstoy", book="Crime and Punishment"), 1)[0] == []


def test_one_vote_per_person_which_can_change(gallery, publish):
    clip = publish()
    gallery.vote(clip.render_id, "u1", 1)
    gallery.vote(clip.render_id, "u1", 1)  # again: still one vote
    after = gallery.vote(clip.render_id, "u2", -1)
    assert (after.up, after.down, after.score, after.votes) == (1, 1, 0, 2)
    after = gallery.vote(clip.render_id, "u2", 1)  # changed
    assert (after.up, after.down) == (2, 0) and gallery.vote_of(clip.render_id, "u2") == 1
    after = gallery.vote(clip.render_id, "u1", 0)  # taken back
    assert (after.up, after.votes) == (1, 1) and gallery.vote_of(clip.render_id, "u1") == 0
    assert gallery.get(clip.render_id).up == 1


def test_enough_votes_and_a_low_score_sink_out_of_the_default_view(gallery, publish):
    weak = publish(title="weak")
    publish(title="liked")
    for voter in ("a", "b", "c", "d"):
        gallery.vote(weak.render_id, voter, -1)
    assert {p.title for p in gallery.page("top", EVERYTHING, 1)[0]} == {"weak", "liked"}  # too few votes yet
    sunk = gallery.vote(weak.render_id, "e", -1)
    assert sunk.sunk
    assert [p.title for p in gallery.page("top", EVERYTHING, 1)[0]] == ["liked"]
    assert {p.title for p in gallery.page("top", GalleryFilter(include_sunk=True), 1)[0]} == {"weak", "liked"}
    for voter in ("f", "g", "h", "i"):
        gallery.vote(weak.render_id, voter, 1)
    assert not gallery.get(weak.render_id).sunk  # votes can lift it back


def test_reports_hold_a_clip_for_review_one_per_person(gallery, publish):
    clip = publish()
    assert REVIEW_AFTER_REPORTS == 3  # the numbers below are worked out for three
    for reason in ("first words", "second words", None):
        gallery.report(clip.render_id, "same person", reason)
    after_one = gallery.get(clip.render_id)
    assert (after_one.reports, after_one.held, after_one.needs_review, after_one.listed) == (1, False, True, True)
    assert [(r.user_id, r.reason) for r in gallery.reports_on(clip.render_id)] == [("same person", "first words")]
    second = gallery.report(clip.render_id, "reporter 2")
    assert (second.reports, second.held, second.listed) == (2, False, True)  # one short of the threshold
    held = gallery.report(clip.render_id, "reporter 3", "unlawful")
    assert (held.reports, held.held, held.hidden, held.listed) == (3, True, False, False)  # at the threshold
    assert gallery.page("new", GalleryFilter(include_sunk=True), 1)[0] == []
    assert [r.user_id for r in gallery.reports_on(clip.render_id)] == ["same person", "reporter 2", "reporter 3"]
    assert [p.render_id for p in gallery.for_review()] == [clip.render_id]


def test_an_admin_clears_or_hides_and_later_reports_start_again(gallery, publish):
    clip = publish()
    for reporter in ("a", "b", "c"):
        gallery.report(clip.render_id, reporter)
    cleared = gallery.change(clip.render_id, Publication.cleared)
    assert (cleared.held, cleared.hidden, cleared.listed, cleared.needs_review) == (False, False, True, False)
    assert gallery.get(clip.render_id) == cleared and gallery.for_review() == []
    assert [p.render_id for p in gallery.page("new", EVERYTHING, 1)[0]] == [clip.render_id]
    gallery.report(clip.render_id, "a")  # the same people again: nothing new
    assert gallery.get(clip.render_id).open_reports == 0
    for reporter in ("d", "e"):
        gallery.report(clip.render_id, reporter)
    two_more = gallery.get(clip.render_id)
    assert (two_more.open_reports, two_more.held, two_more.needs_review) == (2, False, True)
    held_again = gallery.report(clip.render_id, "f")
    assert held_again.held and held_again.open_reports == 3
    hidden = gallery.change(clip.render_id, Publication.hidden_by_admin)
    assert (hidden.hidden, hidden.held, hidden.listed, hidden.needs_review) == (True, False, False, False)
    assert gallery.get(clip.render_id) == hidden


def test_an_appeal_is_stored_once_and_a_refused_change_writes_nothing(gallery, publish):
    clip = publish()
    hidden = gallery.change(clip.render_id, Publication.hidden_by_admin)
    appealed = gallery.change(clip.render_id, lambda p: p.appealed("It is a painting of a bridge.", now()))
    assert (appealed.appeal, appealed.appeal_open, appealed.needs_review) == (
        "It is a painting of a bridge.",
        True,
        True,
    )
    assert [p.render_id for p in gallery.for_review()] == [clip.render_id]

    def refuse(publication: Publication) -> Publication:
        raise ValueError("already appealed")

    with pytest.raises(ValueError):
        gallery.change(clip.render_id, refuse)
    assert gallery.get(clip.render_id) == appealed
    answered = gallery.change(clip.render_id, Publication.cleared)
    assert (answered.listed, answered.appeal_open, answered.appeal) == (True, False, "It is a painting of a bridge.")
    assert hidden.appeal is None
    with pytest.raises(KeyError):
        gallery.change("no-such-render", Publication.cleared)


def test_the_review_queue_puts_held_clips_first_then_appeals_then_the_most_reported(gallery, publish):
    one_report = publish(title="one report", minutes_ago=3)
    appealed = publish(title="appealed", minutes_ago=2)
    held = publish(title="held", minutes_ago=1)
    two_reports = publish(title="two reports", minutes_ago=4)
    publish(title="untouched")
    gallery.report(one_report.render_id, "a")
    for reporter in ("a", "b"):
        gallery.report(two_reports.render_id, reporter)
    for reporter in ("a", "b", "c"):
        gallery.report(held.render_id, reporter)
    gallery.change(appealed.render_id, Publication.hidden_by_admin)
    gallery.change(appealed.render_id, lambda p: p.appealed("please", now()))
    assert [p.title for p in gallery.for_review()] == ["held", "appealed", "two reports", "one report"]


def test_publishing_again_keeps_the_moderation(gallery, publish):
    clip = publish()
    gallery.change(clip.render_id, Publication.hidden_by_admin)
    gallery.unpublish(clip.render_id)
    again = gallery.publish(clip.model_copy(update={"owner": "New name"}))
    assert (again.hidden, again.listed, again.owner) == (True, False, "New name")


def test_an_owners_publications_move_to_their_account(gallery, publish):
    mine = publish(title="mine", owner="Reader")
    publish(title="theirs")
    assert gallery.transfer_owner(mine.owner_id, "local:ann@example.com") == 1
    assert gallery.get(mine.render_id).owner_id == "local:ann@example.com"
    assert gallery.transfer_owner(mine.owner_id, "local:ann@example.com") == 0


def test_unpublish_and_publish_again_keep_the_counts(gallery, publish):
    clip = publish()
    gallery.vote(clip.render_id, "u1", 1)
    gallery.add_remix(clip.render_id)
    gallery.unpublish(clip.render_id)
    assert gallery.page("new", EVERYTHING, 1)[0] == []
    again = gallery.publish(clip.model_copy(update={"owner": "New name"}))
    assert (again.up, again.remixes, again.owner, again.published) == (1, 1, "New name", True)
    assert [p.render_id for p in gallery.page("new", EVERYTHING, 1)[0]] == [clip.render_id]


def test_delete_forgets_the_publication_and_its_votes(gallery, publish):
    clip = publish()
    gallery.vote(clip.render_id, "u1", 1)
    gallery.delete(clip.render_id)
    assert gallery.get(clip.render_id) is None and gallery.vote_of(clip.render_id, "u1") == 0
    with pytest.raises(KeyError):
        gallery.vote(clip.render_id, "u1", 1)


def test_a_deleted_render_is_gone_from_the_records(records, gallery, publish):
    clip = publish()
    gallery.delete(clip.render_id)
    records.delete_render(clip.render_id)
    assert records.get_render(clip.render_id) is None


def test_search_is_partial_case_and_accent_blind_on_title_book_and_author(gallery, publish):
    crime = publish(title="Neva at dusk", book="Crime and Punishment", author="Fyodor Dostoevsky", minutes_ago=3)
    cafe = publish(title="Café on the Néva", book=None, author="Émile Zola", minutes_ago=2)
    anna = publish(title="Вокзал", book="Анна Каренина", author="Лев Толстой", minutes_ago=1)

    def found(words: str) -> list[str]:
        return [p.render_id for p in gallery.page("new", GalleryFilter(search=words), 1)[0]]

    assert found("crim") == [crime.render_id]  # a word's beginning, not the whole string
    assert found("PUNISHMENT") == [crime.render_id]  # case
    assert found("and pun") == [crime.render_id]  # across words, from a word's start
    assert found("dostoevsky") == [crime.render_id]  # the author
    assert found("cafe") == [cafe.render_id]  # accents: é is e
    assert found("emile zo") == [cafe.render_id]
    assert found("neva") == [cafe.render_id, crime.render_id]  # Néva and Neva, newest first
    assert found("карен") == [anna.render_id]  # Cyrillic, the book
    assert found("ТОЛСТ") == [anna.render_id]
    assert found("  Crime,  and!! ") == [crime.render_id]  # punctuation and spaces as in the stored words
    assert found("rime") == []  # inside a word: no
    assert found("punishment fyodor") == []  # never from one field into the next
    assert found("zola") == [cafe.render_id] and found("tolstoy") == []


def test_search_reads_at_most_its_limit_of_characters(gallery, publish):
    from infra.domain.publication import SEARCH_MAX_CHARS

    title = "a" + " b" * 30  # 61 characters: "a b b b ..."
    clip = publish(title=title)
    exact = title[:SEARCH_MAX_CHARS]  # at the limit: found
    assert [p.render_id for p in gallery.page("new", GalleryFilter(search=exact), 1)[0]] == [clip.render_id]
    # One past the limit is cut to the limit, so the same clip (never an error, never nothing).
    beyond = title[: SEARCH_MAX_CHARS + 2]
    assert [p.render_id for p in gallery.page("new", GalleryFilter(search=beyond), 1)[0]] == [clip.render_id]


def test_search_follows_a_publication_published_again(gallery, publish):
    clip = publish(title="First title", book="A book")
    gallery.publish(clip.model_copy(update={"title": "Second title"}))
    assert gallery.page("new", GalleryFilter(search="second"), 1)[0][0].render_id == clip.render_id
    assert gallery.page("new", GalleryFilter(search="first"), 1)[0] == []


def test_publications_stored_before_their_search_words_and_keys_existed_are_found_once_reindexed(
    gallery, publish, monkeypatch
):
    """As an older version of the site stored them: no search words, no filter keys, and a
    report that did not yet put the clip up for review. Read a page of one at a time."""
    monkeypatch.setattr("infra.gallery.firestore.REINDEX_PAGE", 1)
    with monkeypatch.context() as older:
        older.setattr(Publication, "search_fields", lambda self: [])
        older.setattr(Publication, "search_terms", lambda self: [])
        older.setattr(Publication, "filter_keys", lambda self: {"book": None, "author": None, "style": None})
        older.setattr(Publication, "_derived", lambda self, **changes: self.model_copy(update=changes))
        clip = publish(title="Neva at dusk", book="Crime and Punishment")
        reported = gallery.report(publish(title="A storm", book="The Tempest").render_id, "u2", "spam")
        current = publish(title="A lighthouse", book="To the Lighthouse")
        current_id = current.render_id
    assert gallery.page("new", GalleryFilter(search="neva"), 1)[0] == []
    assert gallery.page("new", GalleryFilter(book="crime and punishment"), 1)[0] == []
    assert gallery.for_review() == []
    gallery.vote(current_id, "u1", 1)  # written again by today's code: its words and keys are there
    assert gallery.reindex() == 2
    assert [p.render_id for p in gallery.page("new", GalleryFilter(search="neva"), 1)[0]] == [clip.render_id]
    assert [p.render_id for p in gallery.page("new", GalleryFilter(book="Crime and Punishment"), 1)[0]] == [
        clip.render_id
    ]
    assert [(p.render_id, p.needs_review) for p in gallery.for_review()] == [(reported.render_id, True)]
    assert gallery.get(clip.render_id) == clip  # the card and counts unchanged
    assert gallery.reindex() == 0  # nothing left to write
