"""A published clip's rules worked by hand (infra.domain.publication): the counts and what
follows from them, the review order, the search's key and the terms a publication is found by."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.domain.publication import GalleryFilter, Publication, review_order, search_key


def clip(**fields) -> Publication:
    return Publication(
        **({"render_id": "r", "owner_id": "google:1", "owner": "Sonya", "style": "ink", "title": "t"} | fields)
    )


@pytest.mark.parametrize(
    ("up", "down", "score", "votes", "sunk"),
    [
        (3, 1, 2, 4, False),
        (0, 4, -4, 4, False),  # four votes, all down: too few to sink
        (1, 4, -3, 5, True),  # five votes, one up (20 %): sinks
        (2, 3, -1, 5, False),  # five votes, two up (40 %)
        (7, 13, -6, 20, False),  # 7 of 20 up is 35 %, the threshold itself: stays
        (6, 14, -8, 20, True),  # 6 of 20 is 30 %: sinks
    ],
)
def test_the_counts_give_the_score_the_votes_and_whether_a_clip_sinks(up, down, score, votes, sunk):
    counted = clip().counted(up, down, 2)
    assert (counted.up, counted.down, counted.reports) == (up, down, 2)
    assert (counted.score, counted.votes, counted.sunk) == (score, votes, sunk)


def test_published_again_a_clip_keeps_its_counts_and_moderation():
    earlier = clip(title="Old", remixes=4, reviewed_reports=3).counted(1, 4, 4).appealed("why", datetime(2031, 1, 1))
    fresh = clip(title="New").over(earlier)
    assert (fresh.title, fresh.up, fresh.down, fresh.reports, fresh.remixes) == ("New", 1, 4, 4, 4)
    assert (fresh.sunk, fresh.reviewed_reports, fresh.open_reports, fresh.held) == (True, 3, 1, False)
    assert (fresh.appeal, fresh.appealed_at, fresh.appeal_open, fresh.needs_review) == (
        "why",
        datetime(2031, 1, 1),
        True,
        True,
    )


def test_the_review_queue_puts_held_clips_first_then_appeals_then_the_most_reported_oldest_first():
    def at(day: int) -> datetime:
        return datetime(2031, 1, day, tzinfo=UTC)

    held = clip(render_id="held", published_at=at(5)).counted(0, 0, 3)
    appeal = clip(render_id="appeal", published_at=at(4)).appealed("mine", at(6))
    two_old = clip(render_id="two-old", published_at=at(1)).counted(0, 0, 2)
    two_new = clip(render_id="two-new", published_at=at(3)).counted(0, 0, 2)
    one = clip(render_id="one", published_at=at(2)).counted(0, 0, 1)
    ordered = sorted([one, two_new, appeal, two_old, held], key=review_order)
    assert [p.render_id for p in ordered] == ["held", "appeal", "two-old", "two-new", "one"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Crime and Punishment", "crime and punishment"),
        ("  Crime,  and!! ", "crime and"),  # punctuation and runs of spaces: one space
        ("Café on the Néva", "cafe on the neva"),  # accents off
        ("Ёлка", "елка"),  # ё is е
        ("ＡＢＣ１２", "abc12"),  # full-width letters and digits are the plain ones
        ("The ﬁrst", "the first"),  # a ligature is its letters
        ("5 ㎏ of flour", "5 kg of flour"),  # one character of two letters (casefold leaves it whole)
        ("Война и мир", "война и мир"),  # й is a letter of its own: война (war) is not воина (a warrior's)
        ("ВОЙНА", "война"),
        ("Вои\u0306на", "война"),  # и typed with a combining breve is й
        ("Воина", "воина"),
        ("Ёлка и йод", "елка и йод"),  # ё is е beside a kept й
        ("!?—", None),  # nothing left
        ("", None),
        (None, None),
    ],
)
def test_the_search_key(text, key):
    assert search_key(text) == key


def test_a_publication_is_found_by_every_beginning_of_every_word_s_rest_of_each_field():
    terms = clip(title="Ab, cd", book="Éa", author=None).search_terms()
    # "ab cd": a, ab, "ab c", "ab cd" (never "ab " with its space); cd's rest: c, cd. "ea": e, ea.
    assert terms == ["a", "ab", "ab c", "ab cd", "c", "cd", "e", "ea"]


def test_the_search_terms_stop_at_the_limit_of_characters():
    terms = clip(title="x" * 38 + " yz").search_terms()  # 41 characters: cut to 40, "x...x y"
    assert max(terms, key=len) == "x" * 38 + " y"
    assert [term for term in terms if term.startswith("y")] == ["y", "yz"]
    assert len(terms) == 38 + 1 + 2  # x to 38 x's, "x...x y", and y, yz


def test_a_search_is_keyed_and_cut_as_the_terms_are():
    assert GalleryFilter(search="  Crime,  AND ").search_term() == "crime and"
    assert GalleryFilter(search="x" * 38 + " yz").search_term() == "x" * 38 + " y"
    assert GalleryFilter(search="x" * 39 + " yz").search_term() == "x" * 39  # the cut ends in a space: it goes
    assert GalleryFilter(search="x" * 40 + " y").search_term() == "x" * 40
    assert GalleryFilter(search="...").search_term() is None and GalleryFilter().search_term() is None


def test_filters_compare_case_blind_with_single_spaces():
    assert GalleryFilter(book=" Crime  AND Punishment", style="Ink").keys() == {
        "book": "crime and punishment",
        "style": "ink",
    }
    assert clip(book="Crime and  Punishment", author=None).filter_keys() == {
        "book": "crime and punishment",
        "author": None,
        "style": "ink",
    }
