"""The projected cost of a clip on an L4: the sum of its parts, billed as a Cloud Run GPU job."""

import pytest

from infra.domain import pricing


def test_the_projected_render_is_the_sum_of_its_parts():
    # 33.2 s job start + 5.9 s first step's one-off work + 69.7 s warm clip + 1.5 s encode
    assert pricing.L4_PROJECTED_RENDER.seconds == pytest.approx(110.3)
    assert pricing.L4_PROJECTED_RENDER.as_of and "H200" in pricing.L4_PROJECTED_RENDER.source


def test_the_projected_clip_is_billed_for_gpu_vcpus_and_memory_every_second():
    # Per second: 4 vCPU x $0.000018 + 16 GiB x $0.000002 + one L4 x $0.0001867 = $0.0002907.
    assert pricing.projected_cost_per_clip() == pytest.approx(110.3 * 0.0002907)
    assert pricing.projected_cost_per_clip() == pytest.approx(0.03206421)
