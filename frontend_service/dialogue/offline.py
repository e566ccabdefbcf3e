"""The offline dialogue engine: rules and templates, no network, deterministic.

It looks in the scene (and the answers so far) for what a good clip needs: who is in
it, the place, the time of day and weather, the mood and style, and what happens.
It asks about what is missing, at most three short questions in the scene's language,
in one round, then composes a storyboard of 3 to 5 shots in English, which is what
the text encoder reads. Russian words it knows are put into English; names are
transliterated. The ChatGPT engine does all this far better; this one keeps the
product working with no key and no network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from frontend_service.dialogue.engine import MAX_QUESTIONS, DialogueEngine, DialogueStep, ModelCall, scene_seed
from frontend_service.dialogue.language import WORDS, is_russian, transliterate
from infra.domain.presets import CLIP_SECONDS
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter
from infra.domain.scene import Question, Scene
from infra.domain.storyboard import Shot, Storyboard, compose_prompt

DEFAULT_STYLE = "cinematic digital painting, soft light"
BASE_NEGATIVE = "blurry, low quality, deformed, watermark, text, jpeg artifacts"
PERIOD_NEGATIVE = "electric light, cars, modern clothes, smartphones, power lines"
CAMERAS = ["wide establishing shot", "medium shot", "slow push in", "close-up", "slow pan right"]

# The words it knows, as data (vocabulary.json): style and mood words, and per aspect
# English words and Russian stems with their English.
_VOCABULARY = json.loads((Path(__file__).with_name("vocabulary.json")).read_text(encoding="utf-8"))
STYLE_WORDS: set[str] = set(_VOCABULARY["style_words"])
MOOD_WORDS: set[str] = set(_VOCABULARY["mood_words"])
ASPECTS: dict[str, tuple[set[str], dict[str, str]]] = {
    aspect: (MOOD_WORDS | STYLE_WORDS if words["english"] is None else set(words["english"]), words["russian"])
    for aspect, words in _VOCABULARY["aspects"].items()
}

QUESTIONS = {
    "action": ("What happens during the 15 seconds?", "Что происходит за эти 15 секунд?"),
    "who": (
        "Who is in the scene, and how do they look (age, clothes)?",
        "Кто в сцене и как выглядит (возраст, одежда)?",
    ),
    "place": ("Where and in what era does it happen?", "Где и в какую эпоху это происходит?"),
    "time": ("What time of day is it, and what is the weather?", "Какое время суток и какая погода?"),
    "mood": (
        "What mood and art style should the clip have (for example, a gloomy oil painting)?",
        "Какое настроение и какой художественный стиль (например, мрачная живопись маслом)?",
    ),
}
QUESTION_ORDER = ["action", "who", "place", "time", "mood"]

_YEAR = re.compile(r"\b(1[0-8]\d\d)\b")
_NAME_ENDING = re.compile(
    r"(ов|ев|ёв|ин|ын|ский|ой|ова|ева|ина|ич|ья|ня|ша|ov|ev|in|sky|ova|eva|ina|ich)$", re.IGNORECASE
)


class OfflineEngine(DialogueEngine):
    name = "offline"

    def __init__(self) -> None:
        self._tokens = EstimatedTokenCounter()

    def next_step(self, scene: Scene, finish: bool = False) -> DialogueStep:
        russian = is_russian(scene.text)
        text = " ".join([scene.text, *scene.answers.values()])
        asked = {q.id for q in scene.questions}
        missing = [aspect for aspect in QUESTION_ORDER if aspect not in asked and not has_aspect(aspect, text)]
        if missing and not finish and scene.rounds == 0:
            questions = [Question(id=aspect, text=QUESTIONS[aspect][russian]) for aspect in missing[:MAX_QUESTIONS]]
            return DialogueStep(questions=questions, calls=[ModelCall("dialogue_turn", self.name)])
        return DialogueStep(storyboard=self.storyboard(scene), calls=[ModelCall("dialogue_turn", self.name)])

    def storyboard(self, scene: Scene) -> Storyboard:
        russian = is_russian(scene.text)
        text = " ".join([scene.text, *scene.answers.values()])
        found = {aspect: terms(aspect, text) for aspect in ASPECTS}
        style_terms = [t for t in found["mood"] if t in STYLE_WORDS]
        mood_terms = [t for t in found["mood"] if t not in STYLE_WORDS]
        style = " ".join(style_terms) or DEFAULT_STYLE
        setting = [*found["place"][:2], *found["time"][:2], *mood_terms[:1]]
        beats = self._beats(scene, russian, found)
        count = max(3, min(5, len(beats)))
        shots = []
        for index, start in enumerate(_even_starts(count)):
            beat = beats[index % len(beats)]
            extra = [term for term in setting if term.lower().split()[-1] not in beat.lower()]
            shot = Shot(start_s=start, prompt=_join(beat, *extra), camera=CAMERAS[index])
            shots.append(self._fit(shot, style))
        negative = BASE_NEGATIVE
        if _YEAR.search(text) or re.search(r"\b(century|век[аеу]?)\b", text, re.IGNORECASE):
            negative = f"{PERIOD_NEGATIVE}, {BASE_NEGATIVE}"
        words = scene.text.split()
        title = scene.book or " ".join(words[:8]).rstrip(".,;:!?") + ("…" if len(words) > 8 else "")
        return Storyboard(
            title=title[:120] or "Untitled scene",
            book=scene.book,
            author=scene.author,
            style=style,
            negative_prompt=negative,
            seed=scene_seed(scene.text),
            shots=shots,
        )

    def _beats(self, scene: Scene, russian: bool, found: dict[str, list[str]]) -> list[str]:
        """What each shot shows: the scene's sentences, or for Russian what was recognised."""
        if not russian:
            source = " ".join([scene.text, scene.answers.get("action", "")])
            sentences = [s.strip(" .!?;\n\t") for s in re.split(r"[.!?;\n]+", source)]
            return [s for s in sentences if len(s.split()) >= 2] or [scene.text.strip()]
        names = _names(scene.text)
        who = ", ".join([*names[:2], *found["who"][:1]]) or "a lone figure"
        return [f"{who}, {place}" for place in found["place"][:1]] + [
            f"{who}, seen closer",
            f"the face of {who}, thoughtful",
            f"{who} walks away",
        ]

    def _fit(self, shot: Shot, style: str) -> Shot:
        """Drops words from the end of the prompt until it fits the text encoder."""
        words = shot.prompt.split()
        while len(words) > 3 and self._tokens(compose_prompt(shot, style)) > MAX_PROMPT_TOKENS:
            words.pop()
            shot = shot.model_copy(update={"prompt": " ".join(words).rstrip(",")})
        return shot


def has_aspect(aspect: str, text: str) -> bool:
    if aspect == "action":
        return len(WORDS.findall(text)) >= 8
    if aspect == "who" and _names(text):
        return True
    return bool(terms(aspect, text))


def terms(aspect: str, text: str) -> list[str]:
    """The English terms for an aspect that the text mentions, in the order found."""
    english, russian = ASPECTS[aspect]
    lowered = f" {text.lower()} "
    found = [word for word in WORDS.findall(lowered) if word in english]
    found += [meaning for stem, meaning in russian.items() if re.search(rf"(?<![а-яё]){stem}", lowered)]
    return list(dict.fromkeys(found))


def _names(text: str) -> list[str]:
    """Likely names, transliterated: capitalised words inside a sentence, or opening one
    with a name's ending (Раскольников, Соня); never a word the vocabulary knows (Неву)."""
    names = []
    for sentence in re.split(r"[.!?\n]+", text):
        for position, word in enumerate(WORDS.findall(sentence)):
            if not word[0].isupper() or len(word) < 3 or _known_word(word):
                continue
            if position > 0 or _NAME_ENDING.search(word):
                names.append(transliterate(word))
    return list(dict.fromkeys(names))


def _known_word(word: str) -> bool:
    lowered = word.lower()
    return any(
        lowered in english or any(lowered.startswith(stem) for stem in russian) for english, russian in ASPECTS.values()
    )


def _even_starts(count: int) -> list[float]:
    """Shot start times spread evenly over the clip, on half seconds."""
    step = CLIP_SECONDS / count
    return [round(index * step * 2) / 2 for index in range(count)]


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)
