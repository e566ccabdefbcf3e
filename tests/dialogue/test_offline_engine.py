"""The offline dialogue engine: what it asks, in which language, and the storyboard it drafts."""

import pytest

from frontend_service.dialogue.engine import MAX_QUESTIONS
from frontend_service.dialogue.language import is_russian, transliterate
from frontend_service.dialogue.offline import OfflineEngine
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter
from infra.domain.scene import Scene
from infra.domain.storyboard import Storyboard

RICH = (
    "At dusk in the winter of 1866, Raskolnikov, a gaunt student in a worn coat, walks onto a stone bridge "
    "over the river. He stops at the railing and stares at the domes across the water. Wind ruffles the dark "
    "water. He turns and walks back into the city, gloomy, oil painting."
)
RUSSIAN = "Раскольников вечером идёт по мосту через Неву. Дует ветер, мрачно."


@pytest.fixture
def engine():
    return OfflineEngine()


def answered(engine, scene: Scene, answer: str) -> Scene:
    step = engine.next_step(scene)
    scene.questions, scene.rounds = step.questions, 1
    scene.answers = {question.id: answer for question in step.questions}
    return scene


def test_a_thin_scene_gets_at_most_three_questions_about_what_is_missing(engine):
    step = engine.next_step(Scene(user_id="u", text="A lighthouse."))
    assert step.storyboard is None
    assert 1 <= len(step.questions) <= MAX_QUESTIONS
    assert step.questions[0].id == "action"  # what happens matters most
    assert len({q.id for q in step.questions}) == len(step.questions)


def test_a_rich_scene_needs_no_questions(engine):
    step = engine.next_step(Scene(user_id="u", text=RICH))
    assert step.questions == [] and isinstance(step.storyboard, Storyboard)


def test_questions_come_in_the_scenes_language(engine):
    step = engine.next_step(Scene(user_id="u", text="Старик у моря."))
    assert step.questions and all(is_russian(q.text) for q in step.questions)


def test_after_one_round_of_answers_comes_the_storyboard(engine):
    scene = answered(engine, Scene(user_id="u", text="A lighthouse."), "waves break over the rocks at night")
    step = engine.next_step(scene)
    assert step.questions == [] and step.storyboard is not None


def test_finish_skips_the_questions(engine):
    step = engine.next_step(Scene(user_id="u", text="A lighthouse."), finish=True)
    assert step.storyboard is not None


@pytest.mark.parametrize("text", [RICH, RUSSIAN, "A lighthouse.", "Одна строка"])
def test_every_storyboard_is_valid_and_fits_the_text_encoder(engine, text):
    storyboard = engine.next_step(Scene(user_id="u", text=text), finish=True).storyboard
    Storyboard.model_validate(storyboard.model_dump())  # every contract rule, again
    assert 3 <= len(storyboard.shots) <= 5
    estimate = EstimatedTokenCounter()
    for shot in storyboard.shots:
        assert estimate(", ".join(filter(None, [shot.prompt, shot.camera, storyboard.style]))) <= MAX_PROMPT_TOKENS


def test_a_russian_scene_becomes_english_prompts_with_the_name_transliterated(engine):
    storyboard = engine.next_step(Scene(user_id="u", text=RUSSIAN), finish=True).storyboard
    for shot in storyboard.shots:
        assert not is_russian(shot.prompt), shot.prompt
    prompts = " ".join(shot.prompt for shot in storyboard.shots)
    assert "Raskolnikov" in prompts and "Nevu" not in prompts  # the river is a place, not a name
    assert "bridge" in prompts and "Neva" in prompts and "evening" in prompts


def test_the_scenes_sentences_become_the_shots(engine):
    storyboard = engine.next_step(Scene(user_id="u", text=RICH), finish=True).storyboard
    assert storyboard.shots[1].prompt.startswith("He stops at the railing")
    assert [shot.start_s for shot in storyboard.shots] == [0.0, 4.0, 7.5, 11.0]
    assert storyboard.style == "oil painting"


def test_an_old_year_excludes_what_did_not_exist_then(engine):
    old = engine.next_step(Scene(user_id="u", text=RICH), finish=True).storyboard
    assert "electric light" in old.negative_prompt and "cars" in old.negative_prompt
    modern = engine.next_step(Scene(user_id="u", text="A girl rides a bicycle in the park."), finish=True).storyboard
    assert "electric light" not in modern.negative_prompt


def test_the_same_scene_always_gives_the_same_storyboard(engine):
    first = engine.next_step(Scene(user_id="u", text=RICH), finish=True).storyboard
    again = OfflineEngine().next_step(Scene(user_id="v", text=RICH), finish=True).storyboard
    assert first == again


def test_the_book_becomes_the_title(engine):
    scene = Scene(user_id="u", text=RICH, book="Crime and Punishment", author="Fyodor Dostoevsky")
    storyboard = engine.next_step(scene, finish=True).storyboard
    assert (storyboard.title, storyboard.book, storyboard.author) == (
        "Crime and Punishment",
        "Crime and Punishment",
        "Fyodor Dostoevsky",
    )


@pytest.mark.parametrize("word, latin", [("Раскольников", "Raskolnikov"), ("Соня", "Sonya"), ("Щука", "Shchuka")])
def test_transliteration(word, latin):
    assert transliterate(word) == latin
