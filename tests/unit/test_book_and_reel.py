"""A book's look carried into each scene's storyboard, and a reel's timeline and merged
subtitles, with every expected value worked out by hand."""

import pytest
from pydantic import ValidationError

from infra.domain.book import MAX_BOOK_SCENES, Book, BookBible, Chapter, Described
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter
from infra.domain.reel import Reel, ReelPart, reel_cues
from infra.domain.storyboard import Storyboard, compose_prompt
from infra.domain.subtitles import Cue, offset, parse_webvtt, webvtt


def book(**fields) -> Book:
    values = {
        "user_id": "reader-1",
        "title": "Crime and Punishment",
        "author": "Fyodor Dostoevsky",
        "aspect": "16:9",
        "bible": BookBible(
            characters=[Described(name="Raskolnikov", look="gaunt young man in a worn coat")],
            places=[Described(name="Neva", look="wide grey river")],
            period="St Petersburg, 1860s",
            style="oil painting",
        ),
        "seed": 1866,
        "chapters": [Chapter(scene_id="s1", chapter="Part One"), Chapter(scene_id="s2", chapter="Part Two")],
    }
    return Book.model_validate(values | fields)


def drafted(*prompts: str) -> Storyboard:
    shots = [{"start_s": 5.0 * index, "prompt": prompt} for index, prompt in enumerate(prompts)]
    return Storyboard.model_validate({"title": "The bridge", "style": "anime", "seed": 7, "shots": shots})


def test_a_scene_of_the_book_gets_its_cast_style_aspect_and_seed():
    dressed = book().dress(drafted("raskolnikov walks onto the bridge", "the Neva at dusk", "domes"), "s1")
    assert [shot.prompt for shot in dressed.shots] == [
        "raskolnikov (gaunt young man in a worn coat) walks onto the bridge",
        "the Neva (wide grey river) at dusk",
        "domes",
    ]
    assert (dressed.style, dressed.aspect, dressed.seed) == ("oil painting, St Petersburg, 1860s", "16:9", 1866)
    assert (dressed.book, dressed.author, dressed.title) == ("Crime and Punishment", "Fyodor Dostoevsky", "The bridge")


def test_a_description_already_in_the_prompt_is_not_added_twice():
    once = book().dress(drafted("Raskolnikov walks"), "s1")
    assert book().dress(once, "s1").shots[0].prompt == "Raskolnikov (gaunt young man in a worn coat) walks"


def test_a_name_inside_another_word_is_not_the_character():
    assert book().dress(drafted("Nevada desert"), "s1").shots[0].prompt == "Nevada desert"


def test_the_seed_policy():
    shared = book()
    assert [shared.seed_for("s1"), shared.seed_for("s2")] == [1866, 1866]
    per_scene = book(seed_policy="per_scene")
    assert [per_scene.seed_for("s1"), per_scene.seed_for("s2")] == [1866, 1867]
    assert per_scene.seed_for("a-new-scene") == 1868  # the next in the book
    wraps = book(seed_policy="per_scene", seed=2**32 - 1)
    assert wraps.seed_for("s2") == 0  # past the largest seed it starts again from 0


def test_a_description_that_would_not_fit_is_left_out_and_the_prompt_still_fits():
    long_look = " ".join(["chrysanthemums"] * 13)  # 194 characters, about 54 tokens
    cast = BookBible(characters=[Described(name="Sonya", look=long_look)], style="")
    prompt = "Sonya reads by a candle in a narrow room under the roof, " + " ".join(["lamplight"] * 8)
    dressed = book(bible=cast).dress(drafted(prompt), "s1")
    assert dressed.shots[0].prompt == prompt
    Storyboard.model_validate(dressed.model_dump())  # still a valid storyboard


def test_a_longer_book_style_shortens_the_prompt_to_fit_and_no_more():
    counter = EstimatedTokenCounter()
    wordy = BookBible(style=" ".join(["impressionist"] * 8), period="")
    prompt = " ".join(["lantern"] * 30)
    assert counter(compose_prompt(drafted(prompt).shots[0], "anime")) <= MAX_PROMPT_TOKENS  # fitted to its own style
    dressed = book(bible=wordy).dress(drafted(prompt), "s1")
    kept = dressed.shots[0].prompt.split()
    assert 3 <= len(kept) < 30 and set(kept) == {"lantern"}
    fits = compose_prompt(dressed.shots[0], dressed.style)
    one_more = compose_prompt(
        dressed.shots[0].model_copy(update={"prompt": " ".join(["lantern"] * (len(kept) + 1))}), dressed.style
    )
    assert counter(fits) <= MAX_PROMPT_TOKENS < counter(one_more)
    Storyboard.model_validate(dressed.model_dump())


def test_a_cast_member_without_a_look_is_passed_over_not_the_end_of_the_cast():
    cast = BookBible(
        characters=[Described(name="Sonya", look=""), Described(name="Raskolnikov", look="gaunt young man")]
    )
    dressed = book(bible=cast).dress(drafted("Sonya and Raskolnikov"), "s1")
    assert dressed.shots[0].prompt == "Sonya and Raskolnikov (gaunt young man)"


# Token counts by hand with the estimate's rules (infra/domain/prompt_tokens.py): 2 for the
# start and end, 1 for a word of up to four letters, 1 for each "(", ")" and ",".
# "Ann (red x k) cat x 60, oil" is 2 + 1 + 1 + k + 1 + 60 + 1 + 1 = 67 + k tokens.
def dressed_with_look(red_words: int) -> str:
    cast = BookBible(characters=[Described(name="Ann", look=" ".join(["red"] * red_words))], style="oil")
    prompt = " ".join(["Ann", *["cat"] * 60])  # 2 + 61 + 1 + 1 = 65 tokens with ", oil"
    return book(bible=cast).dress(drafted(prompt), "s1").shots[0].prompt


def test_a_description_that_just_fits_with_the_books_style_is_added():
    assert dressed_with_look(10) == "Ann (" + " ".join(["red"] * 10) + ") " + " ".join(["cat"] * 60)  # 77 tokens


def test_a_description_one_token_past_the_limit_with_the_books_style_is_left_out():
    # 78 tokens with ", oil", though 76 without the style: the style counts too.
    assert dressed_with_look(11) == " ".join(["Ann", *["cat"] * 60])


def test_a_style_that_fills_the_encoder_alone_still_leaves_the_first_three_words():
    # "1860s" is five tokens (four digits, one word): the period alone is 17 x 5 + 16 = 101.
    crowded = BookBible(period=", ".join(["1860s"] * 17))
    dressed = book(bible=crowded).dress(drafted("Ann walks onto the old bridge"), "s1")
    assert dressed.shots[0].prompt == "Ann walks onto"


def test_a_book_holds_each_scene_once_and_at_most_twelve():
    with pytest.raises(ValidationError, match="only once"):
        book(chapters=[Chapter(scene_id="s1"), Chapter(scene_id="s1")])
    twelve = [Chapter(scene_id=f"s{n}") for n in range(MAX_BOOK_SCENES)]
    assert len(book(chapters=twelve).chapters) == 12
    with pytest.raises(ValidationError):
        book(chapters=[*twelve, Chapter(scene_id="one-more")])


def reel(*durations: float) -> Reel:
    parts = [
        ReelPart(scene_id=f"s{n}", render_id=f"r{n}", chapter=f"Chapter {n}", duration_s=seconds)
        for n, seconds in enumerate(durations, start=1)
    ]
    return Reel(book_id="b", title="Crime and Punishment", author="Fyodor Dostoevsky", parts=parts)


def test_each_clip_starts_after_its_card_and_every_part_before_it():
    # card 3 s, clip 15 s, card 3 s, clip 30 s, card 3 s, clip 15 s
    assert reel(15, 30, 15).clip_starts() == [3.0, 21.0, 54.0]
    assert reel(15, 30, 15).duration_s == 69.0


def test_the_cards_say_book_author_chapter():
    made = reel(15)
    assert made.card_lines(made.parts[0]) == ["Crime and Punishment", "Fyodor Dostoevsky", "Chapter 1"]
    no_author = made.model_copy(update={"author": ""})
    unlabelled = made.parts[0].model_copy(update={"chapter": ""})
    assert no_author.card_lines(unlabelled) == ["Crime and Punishment"]


def test_the_merged_subtitles_move_each_clips_cues_to_where_it_starts():
    first = [Cue(0.0, 5.0, "Он вышел на мост."), Cue(10.0, 15.0, "Нева была тиха…")]
    second = [Cue(2.5, 7.25, "A & B <again>")]
    merged = reel_cues(reel(15, 15), [first, second])
    # clip 1 starts at 3 s; clip 2 at 3 + 15 + 3 = 21 s
    assert merged == [
        Cue(3.0, 8.0, "Он вышел на мост."),
        Cue(13.0, 18.0, "Нева была тиха…"),
        Cue(23.5, 28.25, "A & B <again>"),
    ]
    assert webvtt(merged).splitlines()[10:13] == ["3", "00:00:23.500 --> 00:00:28.250", "A &amp; B &lt;again&gt;"]


def test_a_cue_never_runs_over_the_next_title_card():
    merged = reel_cues(reel(15, 15), [[Cue(14.0, 16.0, "late"), Cue(15.0, 16.0, "after the end")], []])
    assert merged == [Cue(17.0, 18.0, "late")]


def test_a_clip_without_words_adds_no_cues_but_still_takes_its_time():
    merged = reel_cues(reel(15, 15), [[], [Cue(0.0, 1.0, "first words")]])
    assert merged == [Cue(21.0, 22.0, "first words")]


def test_the_cues_must_match_the_parts():
    with pytest.raises(ValueError, match="shorter"):
        reel_cues(reel(15, 15), [[]])
    with pytest.raises(ValueError, match="longer"):
        reel_cues(reel(15, 15), [[], [], [Cue(0.0, 1.0, "a third clip's words")]])


def test_clip_starts_are_kept_to_the_millisecond():
    # 3 + 1.2346 + 3 = 7.2346 s: WebVTT times have milliseconds, so 7.235
    assert reel(1.2346, 15).clip_starts() == [3.0, 7.235]
    assert reel(2.5, 15).clip_starts() == [3.0, 8.5]  # not rounded to whole seconds


def test_cues_moved_later_are_kept_to_the_millisecond():
    assert offset([Cue(0.0, 1.0, "a")], 1.2346) == [Cue(1.235, 2.235, "a")]


def test_a_webvtt_file_reads_back_as_its_cues():
    written = [Cue(0.0, 5.0, "Он вышел на мост."), Cue(61.5, 3601.25, "A & B <again>")]
    assert parse_webvtt(webvtt(written)) == written
    # Written on Windows (CRLF), and a cue of two lines
    crlf = "WEBVTT\r\n\r\n1\r\n00:00:01.000 --> 00:00:02.000\r\nfirst line\r\nsecond line\r\n"
    assert parse_webvtt(crlf) == [Cue(1.0, 2.0, "first line\nsecond line")]
    assert parse_webvtt("WEBVTT\n\nNOTE hi\n\n01:02.500 --> 01:03.000 align:start\nshort\n") == [
        Cue(62.5, 63.0, "short")
    ]
    with pytest.raises(ValueError, match=r"^not a WebVTT file: it does not start with WEBVTT$"):
        parse_webvtt("1\n00:00:00.000 --> 00:00:01.000\nhi\n")
