"""Evaluation of the clarifying dialogue (`make eval-dialogue`).

About twenty scenes from public-domain books, in English and Russian, go through the
ChatGPT engine as the site drives it: a person answers every round of questions until
the storyboard comes. For each finished storyboard it reports the rounds, the chat and
moderation calls, the tokens and the cost (priced from infra/domain/pricing.py), and checks
the storyboard: valid by the contract, 3 to 5 shots, English prompts within 77 tokens,
a negative prompt, no fallback to the offline engine.

With OPENAI_API_KEY set it talks to the real API (OPENAI_BASE_URL and OPENAI_MODEL are
honoured). Without one, and always in CI, it talks to the local fake of the API: the
dialogue's code runs whole, but the model's answers are scripted and the tokens are
estimated from the request and answer sizes, so its budget figures are only a sketch.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from frontend_service.dialogue.chatgpt import ChatGPTEngine  # noqa: E402
from frontend_service.dialogue.engine import MAX_ROUNDS, DialogueEngine  # noqa: E402
from frontend_service.dialogue.offline import is_russian  # noqa: E402
from infra.domain.pricing import token_cost  # noqa: E402
from infra.domain.prompt_tokens import MAX_PROMPT_TOKENS, EstimatedTokenCounter  # noqa: E402
from infra.domain.scene import Scene  # noqa: E402
from infra.domain.storyboard import Storyboard, compose_prompt  # noqa: E402
from tests.benchmarks.report import report  # noqa: E402

SCENES = json.loads((Path(__file__).with_name("scenes.json")).read_text())
ANSWER = {"en": "Whatever fits the book and its period best.", "ru": "Как лучше подходит книге и её эпохе."}
BUDGET = {"chat_calls": 3, "tokens": 3000, "cost_usd": 0.001}


def evaluate(engine: DialogueEngine, model: str) -> list[dict]:
    rows = []
    for item in SCENES:
        scene = Scene(user_id="eval", text=item["text"], book=item["book"], author=item["author"])
        step = engine.next_step(scene)
        calls = list(step.calls)
        while step.storyboard is None:
            scene.questions, scene.rounds = step.questions, scene.rounds + 1
            scene.answers |= {question.id: ANSWER[item["language"]] for question in step.questions}
            step = engine.next_step(scene, finish=scene.rounds >= MAX_ROUNDS)
            calls += step.calls
        chat = [call for call in calls if call.kind == "dialogue_turn" and call.model == model]
        tokens_in, tokens_out = sum(c.tokens_in for c in chat), sum(c.tokens_out for c in chat)
        rows.append(
            {
                "book": item["book"],
                "language": item["language"],
                "rounds": scene.rounds + 1,
                "chat_calls": len(chat),
                "moderation_calls": sum(1 for call in calls if call.kind == "moderation"),
                "tokens": tokens_in + tokens_out,
                "cost_usd": sum(token_cost(c.model, c.tokens_in, c.tokens_out)[0] for c in chat),
                "problems": problems(step.storyboard, step.notice),
            }
        )
    return rows


def problems(storyboard: Storyboard, notice: str | None) -> list[str]:
    found = []
    if notice:
        found.append(f"fell back: {notice}")
    try:
        Storyboard.model_validate(storyboard.model_dump())
    except ValueError as error:
        found.append(f"invalid: {error}")
    if not 3 <= len(storyboard.shots) <= 5:
        found.append(f"{len(storyboard.shots)} shots")
    estimate = EstimatedTokenCounter()
    for number, shot in enumerate(storyboard.shots, start=1):
        if is_russian(shot.prompt):
            found.append(f"shot {number} is not in English")
        if estimate(compose_prompt(shot, storyboard.style)) > MAX_PROMPT_TOKENS:
            found.append(f"shot {number} is over {MAX_PROMPT_TOKENS} tokens")
    if not storyboard.negative_prompt.strip():
        found.append("no negative prompt")
    return found


def summary(rows: list[dict], mode: str, model: str) -> dict:
    averages = {key: statistics.mean(row[key] for row in rows) for key in ("chat_calls", "tokens", "cost_usd")}
    return {
        "mode": mode,
        "model": model,
        "storyboards": len(rows),
        "with_problems": sum(1 for row in rows if row["problems"]),
        "avg_rounds": statistics.mean(row["rounds"] for row in rows),
        "avg_chat_calls": averages["chat_calls"],
        "avg_moderation_calls": statistics.mean(row["moderation_calls"] for row in rows),
        "avg_tokens": averages["tokens"],
        "avg_cost_usd": averages["cost_usd"],
        "within_budget": all(averages[key] <= limit for key, limit in BUDGET.items()),
    }


def scripted_answers(fake) -> None:
    """The fake's answers for every scene: a round of questions, then a storyboard."""
    from tests.dialogue.fake_openai import questions_turn, storyboard_turn

    for item in SCENES:
        question = "Какая погода и время суток?" if item["language"] == "ru" else "What is the weather?"
        fake.chat(questions_turn([question], language=item["language"]), tokens=None)
        fake.chat(storyboard_turn(title=item["book"]), tokens=None)


def main() -> int:
    import openai

    model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    if os.environ.get("OPENAI_API_KEY") and os.environ.get("CI") != "true":
        client = openai.OpenAI(base_url=os.environ.get("OPENAI_BASE_URL"), timeout=30)
        rows, mode = evaluate(ChatGPTEngine(client, model), model), "real API"
    else:
        import logging

        from pytest_httpserver import HTTPServer

        from tests.dialogue.fake_openai import FakeOpenAI

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per fake request is noise
        server = HTTPServer(host="127.0.0.1", port=0)
        server.start()
        try:
            fake = FakeOpenAI(server)
            scripted_answers(fake)
            rows = evaluate(ChatGPTEngine(fake.client(), model), model)
        finally:
            server.stop()
        mode = "local fake: scripted answers, tokens estimated at 4 characters each"
    result = summary(rows, mode, model)
    report("eval-dialogue", {**result, "budget": BUDGET, "scenes": rows}, {}, digits=4)
    for row in rows:
        if row["problems"]:
            print(f"problems in {row['book']}: {'; '.join(row['problems'])}")
    return 0 if result["with_problems"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
