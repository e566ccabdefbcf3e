"""The gallery contract: publishing, paging and filters, votes, reports and remixes, on
SQLite and on Firestore's emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.domain.ids import now
from infra.domain.publication import HIDE_AFTER_REPORTS, GalleryFilter, Publication
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


def test_reports_hide_a_clip_one_per_person(gallery, publish):
    clip = publish()
    for _ in range(HIDE_AFTER_REPORTS):
        gallery.report(clip.render_id, "same person")
    assert gallery.get(clip.render_id).reports == 1 and not gallery.get(clip.render_id).hidden
    for reporter in range(HIDE_AFTER_REPORTS):
        hidden = gallery.report(clip.render_id, f"reporter {reporter}")
    assert hidden.hidden
    assert gallery.page("new", GalleryFilter(include_sunk=True), 1)[0] == []


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
