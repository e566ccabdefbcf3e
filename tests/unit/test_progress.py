from animate_job.progress import STAGES, Progress


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_stage_shares_add_up_to_the_whole():
    assert abs(sum(share for _, share in STAGES) - 1.0) < 1e-9


def test_progress_runs_from_stage_to_stage_up_to_one():
    seen = []
    progress = Progress(lambda stage, value: seen.append((stage, round(value, 3))), min_interval_s=0)
    progress.report("loading", 1.0)
    for step in range(1, 5):
        progress.report("denoising", step / 4)
    progress.report("decoding", 1.0)
    progress.report("encoding", 1.0)
    values = [value for _, value in seen]
    assert values == sorted(values)
    assert seen[0] == ("loading", 0.05) and seen[-1] == ("encoding", 1.0)
    assert ("denoising", 0.45) in seen


def test_reports_are_throttled_but_stage_changes_and_the_end_always_pass():
    clock = FakeClock()
    seen = []
    progress = Progress(lambda stage, value: seen.append(stage), min_interval_s=1.0, clock=clock)
    for step in range(10):  # ten steps within the same instant
        progress.report("denoising", step / 10)
    assert seen == ["denoising"]
    clock.now = 1.5
    progress.report("denoising", 0.95)
    progress.report("decoding", 0.0)
    progress.report("encoding", 1.0)
    assert seen == ["denoising", "denoising", "decoding", "encoding"]


def test_no_callback_means_no_work():
    """Without a callback a report does nothing: not even a look at the clock, which the job's
    hot loop would pay for at every denoising step."""

    def clock() -> float:
        raise AssertionError("the clock was read with nobody to tell")

    progress = Progress(None, clock=clock)
    for stage in ("loading", "denoising", "decoding", "encoding"):
        progress.report(stage, 1.0)
