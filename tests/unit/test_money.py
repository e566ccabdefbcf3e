"""Money worked by hand: the prices per unit, with their sources, and the dollars a few
renders, model calls and downloads cost, each written out as a number. A wrong formula
in infra/domain/pricing.py, or a price changed without these, fails here.

Prices (USD list prices, Tier 1 regions; the table's sources):
- Cloud Run L4 GPU-second          0.0001867   cloud.google.com/run/pricing
- Cloud Run vCPU-second            0.000018    cloud.google.com/run/pricing
- Cloud Run GiB-second (memory)    0.000002    cloud.google.com/run/pricing
- Cloud Storage GiB-month          0.020       cloud.google.com/storage/pricing
- Internet egress GiB              0.12        cloud.google.com/storage/pricing
- gpt-4o-mini per 1M tokens        0.15 in, 0.60 out    openai.com/api/pricing
- gpt-4o per 1M tokens             2.50 in, 10.00 out   openai.com/api/pricing
The render job's shape: 4 vCPU and 16 GiB, so every second of a job costs
4 x 0.000018 + 16 x 0.000002 = 0.000104 USD before the GPU.
"""

from __future__ import annotations

import pytest

from infra.domain import pricing


def test_the_price_table_is_the_one_these_sums_were_worked_from():
    prices = {name: price.usd for name, price in pricing.UNIT_PRICES.items()}
    assert prices == {
        "cloud_run_l4_gpu_second": 0.0001867,
        "cloud_run_vcpu_second": 0.000018,
        "cloud_run_gib_second": 0.000002,
        "storage_gib_month": 0.020,
        "egress_gib": 0.12,
    }
    assert (pricing.JOB_VCPU, pricing.JOB_MEMORY_GIB) == (4, 16)
    mini, big = pricing.TOKEN_PRICES["gpt-4o-mini"], pricing.TOKEN_PRICES["gpt-4o"]
    assert (mini.input_per_million_usd, mini.output_per_million_usd) == (0.15, 0.60)
    assert (big.input_per_million_usd, big.output_per_million_usd) == (2.50, 10.00)


@pytest.mark.parametrize(
    ("wall_seconds", "gpu_seconds", "usd"),
    [
        # 100 s on an L4: 100 x 0.000104 + 100 x 0.0001867 = 0.0104 + 0.01867
        (100, 100, 0.02907),
        # 60 s on a CPU (one machine): no GPU second, 60 x 0.000104
        (60, 0, 0.00624),
        # 90 s, the cloud target: 0.00936 + 0.016803
        (90, 90, 0.026163),
        (0, 0, 0.0),
    ],
)
def test_a_render_attempt(wall_seconds, gpu_seconds, usd):
    assert pricing.render_cost(wall_seconds, gpu_seconds) == pytest.approx(usd, abs=1e-12)


def test_the_target_and_the_projected_cost_per_clip():
    assert pricing.target_cost_per_clip() == pytest.approx(0.026163, abs=1e-12)
    # The projection's parts: 33.2 + 5.9 + 69.7 + 1.5 = 110.3 s on an L4: x 0.0002907
    assert pricing.L4_PROJECTED_RENDER.seconds == pytest.approx(110.3)
    assert pricing.projected_cost_per_clip() == pytest.approx(0.03206421, abs=1e-12)


@pytest.mark.parametrize(
    ("clip_seconds", "job_seconds", "clip_usd", "per_second_usd"),
    [
        # Paid once a job: 33.2 + 5.9 = 39.1 s. Per frame: 69.7 + 1.5 = 71.2 s per 15 s of clip.
        (15, 110.3, 0.03206421, 0.002137614),  # 39.1 + 71.2 = 110.3 s x 0.0002907; / 15
        (30, 181.5, 0.05276205, 0.001758735),  # 39.1 + 142.4 = 181.5 s x 0.0002907; / 30
        (60, 323.9, 0.09415773, 0.0015692955),  # 39.1 + 284.8 = 323.9 s x 0.0002907; / 60
    ],
)
def test_a_second_of_animation_costs_less_in_a_longer_clip(clip_seconds, job_seconds, clip_usd, per_second_usd):
    assert pricing.L4_PROJECTED_RENDER.seconds_for(clip_seconds) == pytest.approx(job_seconds, abs=1e-9)
    assert pricing.projected_cost_per_clip(clip_seconds) == pytest.approx(clip_usd, abs=1e-12)
    assert pricing.cost_per_animation_second(clip_usd, clip_seconds) == pytest.approx(per_second_usd, abs=1e-12)


def test_the_price_list_has_a_row_per_clip_length():
    assert pricing.price_list() == [
        (15, pytest.approx(0.03206421, abs=1e-12), pytest.approx(0.002137614, abs=1e-12)),
        (30, pytest.approx(0.05276205, abs=1e-12), pytest.approx(0.001758735, abs=1e-12)),
        (60, pytest.approx(0.09415773, abs=1e-12), pytest.approx(0.0015692955, abs=1e-12)),
    ]


@pytest.mark.parametrize(("cost", "seconds", "usd"), [(0.30, 60, 0.005), (0.08, 15, 0.08 / 15), (0.0, 30, 0.0)])
def test_a_measured_clip_s_cost_per_second(cost, seconds, usd):
    assert pricing.cost_per_animation_second(cost, seconds) == pytest.approx(usd, abs=1e-15)


def test_a_clip_of_no_seconds_has_no_cost_per_second():
    with pytest.raises(ValueError, match=r"^a clip's length is above 0 seconds, not 0$"):
        pricing.cost_per_animation_second(0.1, 0)
    assert pricing.cost_per_animation_second(0.1, 0.5) == pytest.approx(0.2, abs=1e-15)  # any length above 0


@pytest.mark.parametrize(
    ("size_bytes", "usd"),
    [
        (2**30, 0.12),  # one GiB
        (10 * 2**20, 0.001171875),  # 10 MiB: 10/1024 x 0.12
        (1024, 0.12 / 2**20),  # one KiB
        (0, 0.0),
    ],
)
def test_a_download(size_bytes, usd):
    assert pricing.egress_cost(size_bytes) == pytest.approx(usd, abs=1e-15)


def test_a_clip_kept_for_a_month():
    assert pricing.storage_cost_per_month(2 * 2**30) == pytest.approx(0.04, abs=1e-12)


@pytest.mark.parametrize(
    ("model", "tokens_in", "tokens_out", "usd"),
    [
        ("gpt-4o-mini", 1000, 500, 0.00045),  # 1000 x 0.15e-6 + 500 x 0.60e-6 = 0.00015 + 0.0003
        ("gpt-4o-mini", 900, 300, 0.000315),  # 0.000135 + 0.00018: the fake API's usual turn
        ("gpt-4o", 2000, 1000, 0.015),  # 2000 x 2.5e-6 + 1000 x 10e-6 = 0.005 + 0.01
        ("gpt-4o-mini-2024-07-18", 1000, 0, 0.00015),  # a dated snapshot costs what its model costs
        ("omni-moderation-latest", 5000, 0, 0.0),  # moderation is free
    ],
)
def test_a_model_call(model, tokens_in, tokens_out, usd):
    cost, version = pricing.token_cost(model, tokens_in, tokens_out)
    assert cost == pytest.approx(usd, abs=1e-12) and version == pricing.PRICING_VERSION


def test_an_unpriced_model_costs_nothing_and_says_so():
    assert pricing.token_cost("my-own-llama", 1000, 1000) == (0.0, f"{pricing.PRICING_VERSION}:unpriced-model")


def test_the_stage_budgets_are_the_seed_s():
    assert pricing.STAGE_MONTHLY_USD == {"internal": (57, 73), "beta": (220, 310), "production": (1800, 2270)}
    assert pricing.SEED_COST_PER_CLIP_USD == (0.40, 0.55)
