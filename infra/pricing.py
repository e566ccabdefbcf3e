"""What each billed unit costs: one table, dated and sourced, read when an event is made.

Every usage event stores the table's version beside its cost, so a report can tell
which prices a figure was computed with. Prices change: update a row, its date and
its source together, and bump PRICING_VERSION.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICING_VERSION = "2026-11-21"


@dataclass(frozen=True)
class TokenPrice:
    input_per_million_usd: float
    output_per_million_usd: float
    as_of: str
    source: str


# OpenAI's published list prices for standard (non-batch) API calls.
TOKEN_PRICES: dict[str, TokenPrice] = {
    "gpt-4o-mini": TokenPrice(0.15, 0.60, "2024-07-18", "openai.com/api/pricing (gpt-4o-mini launch price)"),
    "gpt-4o": TokenPrice(2.50, 10.00, "2024-10-01", "openai.com/api/pricing"),
    # The moderation endpoint is free of charge.
    "omni-moderation-latest": TokenPrice(0.0, 0.0, "2024-09-26", "platform.openai.com/docs/guides/moderation"),
}


def token_cost(model: str, tokens_in: int, tokens_out: int) -> tuple[float, str]:
    """The cost of one model call in USD, and the pricing it came from.

    A model missing from the table (an OpenAI-compatible server of one's own) costs 0
    and says so, rather than borrowing another model's price.
    """
    price = TOKEN_PRICES.get(model) or TOKEN_PRICES.get(model.split("-20")[0])  # dated snapshots share a price
    if price is None:
        return 0.0, f"{PRICING_VERSION}:unpriced-model"
    cost = tokens_in * price.input_per_million_usd / 1e6 + tokens_out * price.output_per_million_usd / 1e6
    return cost, PRICING_VERSION
