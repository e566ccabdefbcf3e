"""Why a render failed: the reasons the job, the local worker and the trigger store, built
here, and the sentence a person reads for each, in their language.

The stored reason is English and technical (exit statuses, exception names, model paths),
for the logs, the API's `error` and whoever runs the site. A person reads instead one
sentence per kind of failure, translated (`person_message`): what happened and what to do.
Every reason a failed render stores is made by a function of this module, so each kind is
recognised by the words its function writes, wherever they stand in the reason: a reason
may wrap another (the local worker gives up on a job that said why it stopped), and the
job's words are then the ones told. The kinds are looked for in a fixed order (`kind`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from infra.domain.text import N_

#: The trigger could not start a job through every retry (Pub/Sub dead-lettered the request).
NOT_STARTED = (
    "The render could not be started: the render service stayed busy or out of GPU capacity "
    "through every retry. Please try again later."
)
#: The sweep found it running past the job's time limit.
TIMED_OUT = "The render ran past its time limit and was stopped. Try the draft preset, or try again later."
#: The local worker's process went away with the render (a restart).
SITE_RESTARTED = "the site restarted during this render"

_OUT_OF_MEMORY = " ran out of memory rendering "
_PART_MISSING = re.compile(r"the clip of part (\d+) is gone")
_MODEL_UNAVAILABLE = "the model could not be loaded: "

# What a person reads, by kind; "%(part)d" is filled from the reason.
MESSAGES = {
    "not_started": N_(
        "The render could not be started: the render service stayed busy through every retry. Please try again later."
    ),
    "timed_out": N_("The render ran past its time limit and was stopped. Try the draft preset, or try again later."),
    "out_of_memory": N_("The renderer ran out of memory. Try the draft preset or a smaller size."),
    "part_missing": N_("The clip of part %(part)d is gone. Ask for the reel again."),
    "model_unavailable": N_("The renderer's model could not be loaded. Please try again later."),
    "stopped": N_("The renderer stopped with an error. Please try again."),
}


def out_of_memory(device: str, width: int, height: int) -> str:
    advice = "try the draft preset, a smaller size, or a GPU with more memory"
    return f"the {device.upper()}{_OUT_OF_MEMORY}{width}x{height}: {advice}"


def part_missing(part: int) -> str:
    """A reel's part (counted from 1) whose clip is gone."""
    return f"the clip of part {part} is gone: ask for the reel again"


def model_unavailable(detail: str) -> str:
    return f"{_MODEL_UNAVAILABLE}{detail}"


def renderer_stopped(error: Exception) -> str:
    return f"the renderer stopped: {type(error).__name__}: {error}"


def process_stopped(exit_status: int, last_line: str) -> str:
    """The local worker's job process ended without settling the render."""
    detail = f": {last_line}" if last_line else ""
    return f"the render process stopped unexpectedly (exit status {exit_status}){detail}"


def gave_up(reason: str, attempts: int) -> str:
    return f"{reason}; gave up after {attempts} attempts"


def kind(reason: str) -> tuple[str, dict[str, int]]:
    """The kind of failure a stored reason tells (a key of MESSAGES), and its values."""
    if _OUT_OF_MEMORY in reason:
        return "out_of_memory", {}
    if part := _PART_MISSING.search(reason):
        return "part_missing", {"part": int(part[1])}
    if _MODEL_UNAVAILABLE in reason:
        return "model_unavailable", {}
    if reason == NOT_STARTED:
        return "not_started", {}
    if reason == TIMED_OUT:
        return "timed_out", {}
    return "stopped", {}


def person_message(reason: str | None, translate: Callable[[str], str] = str) -> str | None:
    """The sentence a person reads for a stored reason, put in their language by `translate`
    (the site's gettext, or the bot's catalogue for a chat's language)."""
    if reason is None:
        return None
    found, values = kind(reason)
    return translate(MESSAGES[found]) % values
