"""A stored failure reason, told to a person as one sentence of its kind, in their language."""

import pytest

from infra.domain import failures
from infra.domain.failures import person_message

OUT_OF_MEMORY = "The renderer ran out of memory. Try the draft preset or a smaller size."
STOPPED = "The renderer stopped with an error. Please try again."


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (failures.out_of_memory("cuda", 512, 512), OUT_OF_MEMORY),
        (failures.part_missing(3), "The clip of part 3 is gone. Ask for the reel again."),
        (failures.part_missing(12), "The clip of part 12 is gone. Ask for the reel again."),
        (
            failures.model_unavailable("no motion adapter file at /models/adapter.safetensors"),
            "The renderer's model could not be loaded. Please try again later.",
        ),
        (
            failures.NOT_STARTED,
            "The render could not be started: the render service stayed busy through every retry. "
            "Please try again later.",
        ),
        (
            failures.TIMED_OUT,
            "The render ran past its time limit and was stopped. Try the draft preset, or try again later.",
        ),
        (failures.renderer_stopped(ValueError("no frames")), STOPPED),
        (failures.process_stopped(137, ""), STOPPED),
        (failures.gave_up(failures.SITE_RESTARTED, 2), STOPPED),
        ("a reason written before reasons had kinds", STOPPED),
    ],
)
def test_each_kind_of_reason_is_told_as_its_sentence(reason, message):
    assert person_message(reason) == message


def test_the_reason_a_job_gave_inside_the_worker_s_is_the_one_told():
    """The local worker gives up on a job that said why it stopped: the job's reason counts."""
    job_said = "error: " + failures.out_of_memory("cpu", 1024, 1024)
    assert person_message(failures.gave_up(failures.process_stopped(3, job_said), 2)) == OUT_OF_MEMORY


def test_a_time_limit_or_a_start_that_never_came_is_told_only_for_the_trigger_s_own_words():
    """NOT_STARTED and TIMED_OUT are whole sentences the trigger stores: quoted inside a job's
    error they are not what stopped the render."""
    assert person_message(failures.renderer_stopped(RuntimeError(failures.TIMED_OUT))) == STOPPED
    assert person_message(failures.NOT_STARTED + " ") == STOPPED


def test_the_sentence_is_put_in_the_person_s_language_before_the_part_is_filled_in():
    russian = {"The clip of part %(part)d is gone. Ask for the reel again.": "Ролика части %(part)d больше нет."}
    assert (
        person_message(failures.part_missing(2), lambda text: russian.get(text, text)) == "Ролика части 2 больше нет."
    )


def test_no_reason_no_sentence():
    assert person_message(None) is None


def test_the_stored_reasons_keep_their_words():
    """What the logs and the API's `error` show, as the job, the worker and the trigger wrote
    it before (a model that could not be loaded is now said so first). Reasons already stored
    are told by these words: changing them tells old failures as stopped."""
    assert failures.NOT_STARTED == (
        "The render could not be started: the render service stayed busy or out of GPU capacity "
        "through every retry. Please try again later."
    )
    assert failures.TIMED_OUT == (
        "The render ran past its time limit and was stopped. Try the draft preset, or try again later."
    )
    assert failures.out_of_memory("cuda", 512, 768) == (
        "the CUDA ran out of memory rendering 512x768: try the draft preset, a smaller size, or a GPU with more memory"
    )
    assert failures.part_missing(2) == "the clip of part 2 is gone: ask for the reel again"
    assert (
        failures.model_unavailable("no model directory at /m")
        == "the model could not be loaded: no model directory at /m"
    )
    assert failures.renderer_stopped(KeyError("fps")) == "the renderer stopped: KeyError: 'fps'"
    assert failures.process_stopped(1, "error: no disk") == (
        "the render process stopped unexpectedly (exit status 1): error: no disk"
    )
    assert failures.process_stopped(-9, "") == "the render process stopped unexpectedly (exit status -9)"
    assert failures.gave_up("the site restarted during this render", 3) == (
        "the site restarted during this render; gave up after 3 attempts"
    )
