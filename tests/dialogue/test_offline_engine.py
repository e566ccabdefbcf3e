"""The offline dialogue engine: what it asks, in which language, and the storyboard it drafts.

The drafts below were written by hand from the rules in frontend_service/dialogue/offline.py
(the place wide, the person medium, the action or detail close, a closing image; with a
passage its sentences in order), not copied from the engine's output.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend_service.dialogue.engine import MAX_QUESTIONS
from frontend_service.dialogue.language import is_russian
from frontend_service.dialogue.offline import OfflineEngine
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter
from infra.domain.scene import Scene
from infra.domain.storyboard import Storyboard

RICH = (
    "At dusk in the winter of 1866, Raskolnikov, a gaunt student in a worn coat, walks onto a stone bridge "
    "over the river. He stops at the railing and stares at the domes across the water. Wind ruffles the dark "
    "water. He turns and walks back into the city, gloomy, oil painting."
)
ONE_LINE = "Raskolnikov crosses the Neva bridge at dusk, wind over the water"
JANE = "Jane Eyre meets Mr Rochester on a frozen lane at dusk."
JANE_PASSAGE = (
    "A horse came down the lane. Its rider was a dark man in a cloak. The horse slipped on the ice and fell. "
    "Jane ran to help him. He leaned on her shoulder and limped to his horse."
)
RUSSIAN = "Раскольников вечером идёт по мосту через Неву. Дует ветер, мрачно."
KARENINA = "На вокзале Анна Каренина впервые видит Вронского. Идёт снег, вечер."
BALL = "Анна Каренина танцует с Вронским на балу."
BALL_PASSAGE = (
    "Анна Каренина танцует с Вронским на балу. Кити смотрит на Вронского. Анна улыбается ему. Кити уходит из зала."
)

WIDE, MEDIUM, CLOSE, CLOSING = "wide establishing shot", "medium shot", "close-up", "wide shot, slow pull back"


@pytest.fixture
def engine():
    return OfflineEngine()


def draft(engine, text: str, passage: str | None = None, answers: dict[str, str] | None = None) -> Storyboard:
    scene = Scene(user_id="u", text=text, passage=passage, answers=answers or {})
    storyboard = engine.next_step(scene, finish=True).storyboard
    assert storyboard is not None
    return storyboard


def shots(storyboard: Storyboard) -> list[tuple[float, str | None, str]]:
    return [(shot.start_s, shot.camera, shot.prompt) for shot in storyboard.shots]


def answered(engine, scene: Scene, answer: str) -> Scene:
    step = engine.next_step(scene)
    scene.questions, scene.rounds = step.questions, 1
    scene.answers = {question.id: answer for question in step.questions}
    return scene


# ---------------------------------------------------------------- the drafts, by hand


def test_an_english_scene_becomes_place_person_action_detail_and_a_closing_image(engine):
    storyboard = draft(engine, RICH)
    assert shots(storyboard) == [
        (0.0, WIDE, "a stone bridge over the river, dusk, winter, wind, 1860s"),
        (3.0, MEDIUM, "Raskolnikov, a gaunt student in a worn coat, walks onto a stone bridge over the river"),
        (6.0, CLOSE, "Raskolnikov stops at the railing and stares at the domes across the water"),
        (9.0, CLOSE, "Wind ruffles the dark water"),
        (12.0, CLOSING, "Raskolnikov turns and walks back into the city"),
    ]
    assert storyboard.style == "oil painting, gloomy mood"
    assert storyboard.negative_prompt.startswith("electric light, cars")


def test_one_english_line_with_answers_puts_each_answer_where_it_belongs(engine):
    answers = {"who": "a gaunt young man in a worn coat", "time": "summer"}
    storyboard = draft(engine, ONE_LINE, answers=answers)
    assert shots(storyboard) == [
        (0.0, WIDE, "the Neva bridge, dusk, summer, wind"),
        (5.0, MEDIUM, "Raskolnikov, a gaunt young man in a worn coat, crosses the Neva bridge"),
        (10.0, CLOSING, "wind over the water"),
    ]
    prompts = [shot.prompt for shot in storyboard.shots]
    assert sum("summer" in prompt for prompt in prompts) == 1  # never appended to every prompt
    assert sum("worn coat" in prompt for prompt in prompts) == 1


def test_an_english_passage_spreads_its_sentences_over_the_shots_in_order(engine):
    storyboard = draft(engine, JANE, passage=JANE_PASSAGE)
    assert shots(storyboard) == [
        (0.0, WIDE, "a horse came down the lane, dusk"),
        (3.0, MEDIUM, "Its rider was a dark man in a cloak"),
        (6.0, CLOSE, "the horse slipped on the ice and fell"),
        (9.0, MEDIUM, "Jane ran to help him"),
        # "He" is Mr Rochester: the scene named him, and his title says he is a man.
        (12.0, CLOSING, "Mr Rochester leaned on her shoulder and limped to his horse"),
    ]


def test_a_russian_scene_names_people_in_the_nominative_in_latin_letters(engine):
    storyboard = draft(engine, KARENINA)
    assert shots(storyboard) == [
        (0.0, WIDE, "a railway station, evening, falling snow"),
        (5.0, MEDIUM, "Anna Karenina, a woman, sees Vronskii at a railway station"),
        (10.0, CLOSING, "falling snow over a railway station"),
    ]


def test_a_russian_scene_with_its_recognised_words_in_english(engine):
    storyboard = draft(engine, RUSSIAN)
    assert shots(storyboard) == [
        (0.0, WIDE, "a stone bridge across the Neva river, evening, wind"),
        (5.0, MEDIUM, "Raskolnikov, a man, walks along a stone bridge across the Neva river"),
        (10.0, CLOSING, "wind over the Neva river"),
    ]
    assert storyboard.style == "cinematic digital painting, soft light, gloomy mood"


def test_a_russian_passage_spreads_its_sentences_over_the_shots(engine):
    storyboard = draft(engine, BALL, passage=BALL_PASSAGE)
    assert shots(storyboard) == [
        (0.0, WIDE, "Anna Karenina, a woman, dances with Vronskii at a grand ball"),
        (4.0, MEDIUM, "Kiti looks at Vronskii"),
        (7.5, CLOSE, "Anna Karenina smiles"),
        (11.0, CLOSING, "Kiti walks away out of a grand hall"),
    ]


def test_a_lone_detail_of_the_person_is_a_close_up_and_the_place_closes(engine):
    """Nobody else is named "old": the pawnbroker is not Raskolnikov's description, and the
    axe under his coat is the detail, not the place."""
    storyboard = draft(
        engine,
        "Raskolnikov climbs the dark narrow staircase to the old pawnbroker's flat, an axe hidden under his coat.",
    )
    assert shots(storyboard) == [
        (0.0, WIDE, "the dark narrow staircase"),
        (4.0, MEDIUM, "Raskolnikov climbs the dark narrow staircase to the old pawnbroker's flat"),
        (7.5, CLOSE, "an axe hidden under his coat"),
        (11.0, CLOSING, "the dark narrow staircase, empty"),
    ]


def test_a_first_person_passage_shows_the_scenes_person_not_i(engine):
    storyboard = draft(
        engine,
        "Jane Eyre leaves Thornfield at night.",
        passage="I looked back at the house. I crossed the field and reached the road. My hands were cold.",
    )
    assert [prompt for _, _, prompt in shots(storyboard)] == [
        "Jane Eyre looked back at the house, night",
        "Jane Eyre crossed the field and reached the road",
        "Jane Eyre's hands were cold",
    ]


def test_a_russian_sentence_keeps_both_of_its_actions_and_whom_they_concern(engine):
    storyboard = draft(engine, "Анна Каренина стоит на платформе вокзала в метель и видит Вронского.")
    # ICAO Doc 9303 writes й as I: Вронский is VRONSKII.
    medium = (5.0, MEDIUM, "Anna Karenina, a woman, stands and sees Vronskii at a railway station")
    assert shots(storyboard)[1] == medium


def test_a_thin_scene_still_makes_three_distinct_shots(engine):
    assert shots(draft(engine, "A lighthouse.")) == [
        (0.0, WIDE, "a lighthouse"),
        (5.0, CLOSE, "details of a lighthouse"),
        (10.0, CLOSING, "a lighthouse in the distance"),
    ]


# ---------------------------------------------------------------- every draft


ALL = [
    (RICH, None),
    (ONE_LINE, None),
    (JANE, JANE_PASSAGE),
    (RUSSIAN, None),
    (KARENINA, None),
    (BALL, BALL_PASSAGE),
    ("A lighthouse.", None),
    ("Одна строка", None),
    ("Frodo stands at the Crack of Doom.", None),
    ("The wolves howl. " * 30, None),
    ("He ran.", "She followed. " * 40),
]


@pytest.mark.parametrize(("text", "passage"), ALL)
def test_every_draft_is_valid_distinct_english_and_fits_the_text_encoder(engine, text, passage):
    storyboard = draft(engine, text, passage)
    Storyboard.model_validate(storyboard.model_dump())  # every contract rule, again
    prompts = [shot.prompt for shot in storyboard.shots]
    assert 3 <= len(prompts) <= 5
    assert len({prompt.lower() for prompt in prompts}) == len(prompts), prompts
    assert not any(is_russian(prompt) for prompt in prompts), prompts
    estimate = EstimatedTokenCounter()
    for shot in storyboard.shots:
        assert estimate(", ".join(filter(None, [shot.prompt, shot.camera, storyboard.style]))) <= MAX_PROMPT_TOKENS


def test_the_draft_is_the_offline_engines_and_says_so(engine):
    step = engine.next_step(Scene(user_id="u", text=RICH), finish=True)
    assert step.engine == "offline" and [call.model for call in step.calls] == ["offline"]


# ---------------------------------------------------------------- the questions


def test_a_thin_scene_gets_at_most_three_questions_about_what_is_missing(engine):
    step = engine.next_step(Scene(user_id="u", text="A lighthouse."))
    assert step.storyboard is None
    assert [q.id for q in step.questions] == ["action", "who", "time"]  # the place is known: a lighthouse
    assert len(step.questions) == MAX_QUESTIONS


def test_a_rich_scene_needs_no_questions(engine):
    step = engine.next_step(Scene(user_id="u", text=RICH))
    assert step.questions == [] and isinstance(step.storyboard, Storyboard)


def test_questions_come_in_the_scenes_language(engine):
    step = engine.next_step(Scene(user_id="u", text="Старик у моря."))
    assert [q.id for q in step.questions] == ["action", "time", "mood"]  # who (старик) and where (море) are known
    assert all(is_russian(q.text) for q in step.questions)


def test_after_one_round_of_answers_comes_the_storyboard(engine):
    scene = answered(engine, Scene(user_id="u", text="A lighthouse."), "waves break over the rocks at night")
    step = engine.next_step(scene)
    assert step.questions == [] and step.storyboard is not None


def test_finish_skips_the_questions(engine):
    step = engine.next_step(Scene(user_id="u", text="A lighthouse."), finish=True)
    assert step.storyboard is not None


# ---------------------------------------------------------------- the rest of the storyboard


def test_an_old_year_excludes_what_did_not_exist_then(engine):
    old = draft(engine, RICH)
    assert "electric light" in old.negative_prompt and "cars" in old.negative_prompt
    modern = draft(engine, "A girl rides a bicycle in the park.")
    assert "electric light" not in modern.negative_prompt


def test_the_same_scene_always_gives_the_same_storyboard(engine):
    first = draft(engine, RICH)
    again = OfflineEngine().next_step(Scene(user_id="v", text=RICH), finish=True).storyboard
    assert first == again


def test_the_book_becomes_the_title(engine):
    scene = Scene(user_id="u", text=RICH, book="Crime and Punishment", author="Fyodor Dostoevsky")
    storyboard = engine.next_step(scene, finish=True).storyboard
    assert storyboard is not None
    assert (storyboard.title, storyboard.book, storyboard.author) == (
        "Crime and Punishment",
        "Crime and Punishment",
        "Fyodor Dostoevsky",
    )


WORDS_OF_BOTH = st.text(
    alphabet=st.sampled_from(list("abcdefghij ABCZ абвгдеёжзи АБВЁ .,;:!?'’-—\n\t0123456789")), min_size=1, max_size=120
)


@given(text=WORDS_OF_BOTH, passage=st.none() | WORDS_OF_BOTH)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_makes_a_valid_draft_of_distinct_shots(engine, text, passage):
    if not text.strip() or not any(c.isalnum() for c in text):
        return  # the API refuses a scene with nothing visible before any engine sees it
    storyboard = draft(engine, text, passage)
    Storyboard.model_validate(storyboard.model_dump())
    prompts = [shot.prompt.lower() for shot in storyboard.shots]
    assert 3 <= len(prompts) <= 5 and len(set(prompts)) == len(prompts), prompts
