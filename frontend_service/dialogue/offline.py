"""The offline dialogue engine: rules, dictionaries and templates; no network, deterministic.

It reads the scene (and the answers so far) for what a good clip needs (reading.py): who
is in it, the place, the time of day and the weather, the mood and style, and what
happens. It asks about what is missing, at most three short questions in the scene's
language, in one round, then drafts a storyboard in English, which is what the text
encoder reads, each shot a beat of its own:

- with a passage from the book, its sentences (the action) spread over the shots in order;
- without one, the scene as a film would show it: the place (wide, establishing), the
  person (medium), the action or the telling detail (close), a closing image.

Each answer goes where it belongs: the time and weather on the place shot, who someone
is on the person's shot, the mood and style in the clip's style; nothing is added to
every prompt. The ChatGPT engine and the local model do all this far better; this one
keeps the product working with no key, no weights and no network.
"""

from __future__ import annotations

import re

from frontend_service.dialogue.engine import MAX_QUESTIONS, DialogueEngine, DialogueStep, ModelCall, scene_seed
from frontend_service.dialogue.language import WORDS, is_russian
from frontend_service.dialogue.quotes import spread
from frontend_service.dialogue.reading import Beat, Reading, gender_noun, read
from infra.domain.presets import CLIP_SECONDS
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter
from infra.domain.scene import Question, Scene
from infra.domain.storyboard import Shot, Storyboard, compose_prompt

DEFAULT_STYLE = "cinematic digital painting, soft light"
BASE_NEGATIVE = "blurry, low quality, deformed, watermark, text, jpeg artifacts"
PERIOD_NEGATIVE = "electric light, cars, modern clothes, smartphones, power lines"
MIN_SHOTS, MAX_SHOTS = 3, 5

ESTABLISHING, MEDIUM, CLOSE, CLOSING = "wide establishing shot", "medium shot", "close-up", "wide shot, slow pull back"

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

_CENTURY = re.compile(r"\b(century|век[аеу]?)\b", re.IGNORECASE)


class OfflineEngine(DialogueEngine):
    name = "offline"

    def __init__(self) -> None:
        self._tokens = EstimatedTokenCounter()

    def next_step(self, scene: Scene, finish: bool = False) -> DialogueStep:
        russian = is_russian(scene.text)
        asked = {q.id for q in scene.questions}
        known = known_aspects(scene)
        missing = [aspect for aspect in QUESTION_ORDER if aspect not in asked and aspect not in known]
        calls = [ModelCall("dialogue_turn", self.name)]
        if missing and not finish and scene.rounds == 0:
            questions = [Question(id=aspect, text=QUESTIONS[aspect][russian]) for aspect in missing[:MAX_QUESTIONS]]
            return DialogueStep(questions=questions, calls=calls, engine=self.name)
        return DialogueStep(storyboard=self.storyboard(scene), calls=calls, engine=self.name)

    def storyboard(self, scene: Scene) -> Storyboard:
        reading = read_scene(scene)
        style = ", ".join([" ".join(reading.styles[:1]) or DEFAULT_STYLE, *(f"{m} mood" for m in reading.moods[:1])])
        if scene.passage and scene.passage.strip():
            shots = passage_shots(reading, read(scene.passage, known=reading.people))
        else:
            shots = film_shots(reading)
        quotes = spread(scene.passage, len(shots))
        fitted = [
            self._fit(Shot(start_s=start, prompt=prompt, camera=camera, quote=quote), style)
            for start, (prompt, camera), quote in zip(even_starts(len(shots)), shots, quotes, strict=True)
        ]
        negative = BASE_NEGATIVE
        if reading.years or _CENTURY.search(" ".join([scene.text, *scene.answers.values()])):
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
            shots=fitted,
        )

    def _fit(self, shot: Shot, style: str) -> Shot:
        """Drops words from the end of the prompt until it fits the text encoder."""
        words = shot.prompt.split()
        while len(words) > 3 and self._tokens(compose_prompt(shot, style)) > MAX_PROMPT_TOKENS:
            words.pop()
            shot = shot.model_copy(update={"prompt": " ".join(words).rstrip(",;")})
        return shot


def read_scene(scene: Scene) -> Reading:
    """The scene and the answers, each answer taken where it belongs: an English answer
    about who or where is the person's own description or place, as written."""
    reading = read(scene.text)
    for aspect, answer in scene.answers.items():
        if not answer.strip():
            continue
        answered = read(answer)
        plain = answer.strip().rstrip(".!?")
        if aspect == "who" and not is_russian(answer):
            if reading.people and not reading.people[0].description:
                reading.people[0].description = plain
            elif not reading.people:
                answered.who.insert(0, plain)
        elif aspect == "place" and not is_russian(answer) and not answered.places:
            answered.places.insert(0, plain)
        if aspect == "action":
            reading.beats.extend(answered.beats)
        reading.take(answered)
    return reading


def film_shots(reading: Reading) -> list[tuple[str, str]]:
    """The scene as a film shows it: the place, the person, the action or detail, a closing image."""
    place = reading.places[0] if reading.places else ""
    beats = _distinct([beat for beat in reading.beats if beat.text.lower() != place.lower()])
    shots: list[tuple[str, str]] = []
    scenery = next((beat for beat in beats if not beat.someone), None) if not place else None
    if place or scenery is not None:
        shown = place or _image(scenery, reading) if scenery is not None else place
        shots.append((_join(shown, *_setting(reading)), ESTABLISHING))
        beats = [beat for beat in beats if beat is not scenery]
    person_beat = next((beat for beat in beats if beat.someone), None)
    if person_beat is not None:
        shots.append((_introduce(person_beat.text, reading), MEDIUM))
        beats = [beat for beat in beats if beat is not person_beat]
    elif reading.people or reading.who:
        shots.append((_introduce("", reading), MEDIUM))
    if shots and shots[0][1] != ESTABLISHING:  # no place to show: the time and weather go on the first shot
        shots[0] = (_join(shots[0][0], *_setting(reading)), shots[0][1])
    # The last beat closes the clip; but a lone detail of the person ("an axe under his coat")
    # is a close-up, and the place (or the person) seen from farther away closes instead.
    lone_detail = len(beats) == 1 and _of_someone(beats[0])
    closing = beats.pop() if beats and not lone_detail else None
    slots = MAX_SHOTS - len(shots) - 1
    shots += [(_image(beat, reading), CLOSE) for beat in _spread(beats, slots)]
    if closing is not None:
        shots.append((_image(closing, reading), CLOSING))
    elif len(shots) >= MIN_SHOTS:
        shots.append(_farther(place, reading))
    return _at_least_three(shots, place, reading)


def passage_shots(reading: Reading, passage: Reading) -> list[tuple[str, str]]:
    """The passage's sentences, the action, spread over the shots in order; the time and
    weather on the first, who someone is where they first appear."""
    reading.take(passage)
    beats = _distinct(passage.beats)
    count = max(MIN_SHOTS, min(MAX_SHOTS, len(beats)))
    groups = _groups(beats, count) if len(beats) >= MIN_SHOTS else [[beat] for beat in beats]
    texts = ["; ".join(_image(beat, reading) for beat in group) for group in groups]
    if reading.people:  # a passage told in the first person: "I" is the scene's person, whom a picture must show
        texts = [_narrator(text, reading.people[0].name) for text in texts]
    introduced: set[str] = set()
    for index, group in enumerate(groups):
        for beat in group:
            person = reading.person(beat.person) if beat.person else None
            if person is not None and person.name not in introduced:
                introduced.add(person.name)
                texts[index] = _describe(texts[index], person.name, person.description or gender_noun(person))
    place = reading.places[0] if reading.places else ""
    shots = []
    for index, text in enumerate(texts):
        camera = ESTABLISHING if index == 0 else CLOSING if index == len(texts) - 1 >= 2 else (CLOSE, MEDIUM)[index % 2]
        shots.append((_join(text, *_setting(reading)) if index == 0 else text, camera))
    if len(shots) < MIN_SHOTS and (place or reading.times or reading.weather):
        shots.insert(0, (_join(place or "the surroundings", *_setting(reading)), ESTABLISHING))
        if len(shots) > 1:
            shots[1] = (shots[1][0], MEDIUM)
    return _at_least_three(shots, place, reading)


_FIRST_PERSON = {"I": "{}", "me": "{}", "my": "{}'s", "myself": "{}", "Me": "{}", "My": "{}'s"}


def _narrator(text: str, name: str) -> str:
    """ "I crossed the field" -> "Jane Eyre crossed the field"."""
    return re.sub(r"\b(I|me|my|myself|Me|My)\b", lambda word: _FIRST_PERSON[word.group(1)].format(name), text)


def _setting(reading: Reading) -> list[str]:
    era = [f"{year[:3]}0s" for year in reading.years[:1]]
    return [*reading.times[:2], *reading.weather[:2], *era]


def _introduce(text: str, reading: Reading) -> str:
    """The person's shot: the beat that shows them, with who they are after their name."""
    person = next((p for p in reading.people if p.name in text), reading.people[0] if reading.people else None)
    if person is None:
        return text or ", ".join(reading.who[:2])
    # Not reading.who: "the old pawnbroker" in a scene about Raskolnikov is somebody else.
    description = person.description or gender_noun(person)
    if not text:
        return _join(person.name, description)
    return _describe(text, person.name, description)


def _describe(text: str, name: str, description: str) -> str:
    """Who someone is, after their name's first mention: "Raskolnikov, a gaunt student, walks..."."""
    if not description or name not in text:
        return text
    position = text.index(name) + len(name)
    rest = text[position:].lstrip(" ,")
    return f"{text[:position]}, {description}" + (f", {rest}" if rest else "")


def _image(beat: Beat, reading: Reading) -> str:
    """A beat as a shot: an image too thin to stand alone (wind, falling snow) is placed."""
    if not beat.someone and len(beat.text.split()) <= 2 and reading.places:
        return f"{beat.text} over {reading.places[-1]}"
    return beat.text[:1].lower() + beat.text[1:] if beat.text.split()[0].lower() in ("a", "an", "the") else beat.text


def _at_least_three(shots: list[tuple[str, str]], place: str, reading: Reading) -> list[tuple[str, str]]:
    """A thin scene still makes three distinct shots: closer, then farther."""
    someone = _someone(reading)
    if place:
        fillers = [(f"details of {place}", CLOSE), _farther(place, reading)]
    elif someone:
        fillers = [(f"the face of {someone}", CLOSE), _farther(place, reading)]
    else:
        subject = shots[0][0] if shots else "an empty landscape"
        fillers = [(f"details of {subject}", CLOSE), (f"{subject} in the distance", CLOSING)]
    if not shots:
        shots.append(("an empty landscape", ESTABLISHING))
    for prompt, camera in fillers:
        if len(shots) >= MIN_SHOTS:
            break
        if prompt.lower() in (existing.lower() for existing, _ in shots):
            continue
        closing_last = shots[-1][1] == CLOSING and camera != CLOSING
        shots.insert(len(shots) - 1 if closing_last else len(shots), (prompt, camera))
    return shots[:MAX_SHOTS]


def _of_someone(beat: Beat) -> bool:
    return any(word.lower() in ("his", "her", "their") for word in beat.text.split())


def _someone(reading: Reading) -> str:
    return reading.people[0].name if reading.people else reading.who[0] if reading.who else ""


def _farther(place: str, reading: Reading) -> tuple[str, str]:
    """The closing image when the scene gives none: the place left behind, or the person far off."""
    someone = _someone(reading)
    if place:
        return (f"{place}, empty" if someone else f"{place} in the distance", CLOSING)
    return (f"{someone}, seen from afar" if someone else "an empty landscape", CLOSING)


def _distinct(beats: list[Beat]) -> list[Beat]:
    seen: set[str] = set()
    kept = []
    for beat in beats:
        key = beat.text.lower()
        if key not in seen:
            seen.add(key)
            kept.append(beat)
    return kept


def _spread(items: list[Beat], slots: int) -> list[Beat]:
    """At most `slots` of the items, spread evenly over them, in order."""
    if len(items) <= slots:
        return items
    if slots <= 0:
        return []
    if slots == 1:
        return [items[0]]
    return [items[round(index * (len(items) - 1) / (slots - 1))] for index in range(slots)]


def _groups(items: list[Beat], count: int) -> list[list[Beat]]:
    """The items in `count` consecutive groups, sizes differing by at most one."""
    size, extra = divmod(len(items), count)
    groups, start = [], 0
    for index in range(count):
        end = start + size + (index < extra)
        groups.append(items[start:end])
        start = end
    return groups


def known_aspects(scene: Scene) -> set[str]:
    """What the scene, its passage and the answers already say, of what a clip needs."""
    reading = read_scene(scene)
    if scene.passage:
        reading.take(read(scene.passage, known=reading.people))
    text = " ".join([scene.text, scene.passage or "", *scene.answers.values()])
    found = {
        "action": len(WORDS.findall(text)) >= 8,
        "who": bool(reading.people or reading.who),
        "place": bool(reading.places),
        "time": bool(reading.times or reading.weather),
        "mood": bool(reading.moods or reading.styles),
    }
    return {aspect for aspect, present in found.items() if present}


def even_starts(count: int) -> list[float]:
    """Shot start times spread evenly over the clip, on half seconds."""
    step = CLIP_SECONDS / count
    return [round(index * step * 2) / 2 for index in range(count)]


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)
