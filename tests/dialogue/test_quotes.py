"""The book's words on screen: every engine's quotes are spans of the passage, word for word,
in the passage's language; never a paraphrase, a translation or an invention."""

import pytest

from frontend_service.dialogue.chatgpt import ChatGPTEngine
from frontend_service.dialogue.language import is_russian
from frontend_service.dialogue.local_model import LocalModelEngine
from frontend_service.dialogue.offline import OfflineEngine
from frontend_service.dialogue.quotes import sentences, shorten, spread, verbatim
from infra.domain.scene import Scene
from tests.dialogue.fake_openai import FakeOpenAI, storyboard_turn
from tests.dialogue.test_local_model import Scripted

CRIME = "Raskolnikov crosses the Neva at dusk."
CRIME_PASSAGE = (
    "He walked out onto the bridge.\nTowards evening the wind rose & the river darkened. "
    '"Am I a trembling creature or have I the right?" he thought. The lamps were not yet lit.'
)
RASKOLNIKOV = "Раскольников вечером идёт по мосту через Неву."
RASKOLNIKOV_PASSAGE = (
    "Он вышел на мост. — Тварь ли я дрожащая или право имею? — подумал он. "
    "Нева была тиха… Ветер дул с залива, и фонари ещё не горели."
)


def test_sentences_are_spans_of_the_passage():
    assert sentences(RASKOLNIKOV_PASSAGE) == [
        "Он вышел на мост.",
        "Тварь ли я дрожащая или право имею?",
        "подумал он.",
        "Нева была тиха…",
        "Ветер дул с залива, и фонари ещё не горели.",
    ]


def test_a_long_sentence_is_cut_at_a_word_within_the_limit():
    sentence = "and " * 30 + "the end."
    cut = shorten(sentence, limit=20)
    assert cut == "and and and and and" and cut in sentence


def test_the_sentences_spread_over_the_shots_in_order():
    assert spread(RASKOLNIKOV_PASSAGE, 3) == [
        "Он вышел на мост.",
        "Тварь ли я дрожащая или право имею?",
        "Нева была тиха…",
    ]
    assert spread("One. Two.", 4) == ["One.", "Two.", None, None]
    assert spread(None, 3) == [None, None, None] and spread("  —  ", 2) == [None, None]


@pytest.mark.parametrize(
    ("quote", "kept"),
    [
        ("Нева была тиха…", "Нева была тиха…"),
        ("  Он вышел   на мост. ", "Он вышел на мост."),  # the model's spacing: the passage's own span
        ("wind rose & the river", None),  # not in the Russian passage
        ("The Neva was quiet", None),  # a translation is not the book's words
        ("Нева была тиха и темна", None),  # an addition
        ("", None),
        (None, None),
    ],
)
def test_a_models_quote_is_kept_only_word_for_word(quote, kept):
    assert verbatim(quote, RASKOLNIKOV_PASSAGE) == kept


def test_a_quote_across_a_line_break_is_the_passages_own_span():
    assert verbatim("He walked out onto the bridge. Towards evening", CRIME_PASSAGE) == (
        "He walked out onto the bridge.\nTowards evening"
    )


@pytest.mark.parametrize(("text", "passage"), [(CRIME, CRIME_PASSAGE), (RASKOLNIKOV, RASKOLNIKOV_PASSAGE)])
def test_the_offline_engine_quotes_the_passage_in_its_language(text, passage):
    storyboard = OfflineEngine().next_step(Scene(user_id="u", text=text, passage=passage), finish=True).storyboard
    assert storyboard is not None
    quotes = [shot.quote for shot in storyboard.shots]
    assert all(quotes) and len(set(quotes)) == len(quotes)
    for quote in quotes:
        assert quote is not None and quote in passage and is_russian(quote) == is_russian(passage)


def test_without_a_passage_no_words_are_put_on_screen():
    storyboard = OfflineEngine().next_step(Scene(user_id="u", text=CRIME), finish=True).storyboard
    assert storyboard is not None and [shot.quote for shot in storyboard.shots] == [None] * len(storyboard.shots)


@pytest.fixture
def fake(httpserver):
    return FakeOpenAI(httpserver)


def test_chatgpt_quotes_are_kept_only_where_the_passage_holds_them(fake):
    fake.chat(
        storyboard_turn(
            shots=[
                {
                    "start_s": 0,
                    "prompt": "a young man walks onto a bridge",
                    "camera": "wide",
                    "quote": "Он вышел на мост.",
                },
                {"start_s": 5, "prompt": "he grips the railing", "camera": "close", "quote": "Я тварь дрожащая!"},
                {"start_s": 10, "prompt": "the quiet river", "camera": "pan", "quote": "The Neva was quiet…"},
                {"start_s": 12, "prompt": "the wind over the gulf", "camera": "wide", "quote": None},
            ]
        )
    )
    scene = Scene(user_id="u", text=RASKOLNIKOV, passage=RASKOLNIKOV_PASSAGE)
    step = ChatGPTEngine(fake.client(), "gpt-4o-mini").next_step(scene, finish=True)
    assert step.storyboard is not None and step.notice is None
    assert [shot.quote for shot in step.storyboard.shots] == ["Он вышел на мост.", None, None, None]
    # Asked for in the structured output: required, a string or null, in the strict schema.
    schema = fake.sent("chat")[0]["response_format"]["json_schema"]["schema"]
    shot = schema["$defs"]["DraftShot"]
    assert "quote" in shot["required"] and {"type": "null"} in shot["properties"]["quote"]["anyOf"]


def test_chatgpt_sees_the_passage_with_its_brackets_swapped_and_its_quotes_come_back_as_written(fake):
    passage = "She wrote: <I will come> and left."
    fake.chat(storyboard_turn(shots=[
        {"start_s": 0, "prompt": "a woman writes a letter", "camera": "close", "quote": "She wrote: ‹I will come›"},
        {"start_s": 5, "prompt": "she puts on her coat", "camera": "medium", "quote": None},
        {"start_s": 10, "prompt": "an empty room", "camera": "wide", "quote": None},
    ]))  # fmt: skip
    scene = Scene(user_id="u", text="A woman leaves a letter.", passage=passage)
    step = ChatGPTEngine(fake.client(), "gpt-4o-mini").next_step(scene, finish=True)
    assert step.storyboard is not None and step.storyboard.shots[0].quote == "She wrote: <I will come>"


def test_the_local_model_takes_the_passages_own_sentences():
    answer = {"title": "The bridge", "style": "oil painting", "shots": [
        {"prompt": "a young man walks onto a bridge", "camera": "wide"},
        {"prompt": "he grips the railing", "camera": "close"},
        {"prompt": "the quiet river", "camera": "pan"},
    ]}  # fmt: skip
    scene = Scene(user_id="u", text=RASKOLNIKOV, passage=RASKOLNIKOV_PASSAGE)
    storyboard = LocalModelEngine(Scripted(answer)).next_step(scene, finish=True).storyboard
    assert storyboard is not None
    assert [shot.quote for shot in storyboard.shots] == [
        "Он вышел на мост.",
        "Тварь ли я дрожащая или право имею?",
        "Нева была тиха…",
    ]
