"""Editable price table: USD per million prompt / completion tokens per model name."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agents.llm.model_catalog import CATALOG

# List prices in USD per million tokens when this table was written; override them in the
# config file (`prices:`) when providers change theirs. Embedded models cost what running them
# here costs: the machine's hourly price over their measured throughput (model_catalog.py).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o3-mini": (1.10, 4.40),
    **{name: model.price_per_million() for name, model in CATALOG.items()},
}


class ModelPrice(BaseModel):
    """Price of one model."""

    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0, description="USD per million prompt tokens")
    output: float = Field(ge=0, description="USD per million completion tokens")


class PriceTable(BaseModel):
    """Model name -> price; names match exactly or by the longest prefix (dated variants)."""

    model_config = ConfigDict(extra="forbid")
    prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: {m: ModelPrice(input=i, output=o)
                                 for m, (i, o) in DEFAULT_PRICES.items()},
        description="model name -> USD per million tokens (input/output)")

    def lookup(self, model: str) -> ModelPrice | None:
        """Find the price of a model: exact name, else the longest known prefix, else None."""
        name = model.lower()
        if name in self.prices:
            return self.prices[name]
        # Strip a provider prefix like "openai/gpt-4o" before prefix matching.
        name = name.rsplit("/", 1)[-1]
        best = max((k for k in self.prices if name.startswith(k)), key=len, default=None)
        return self.prices[best] if best else None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> tuple[float, bool]:
        """Cost in USD of the given tokens on `model`, and whether the model has a price."""
        price = self.lookup(model)
        if price is None:
            return 0.0, False
        return (prompt_tokens * price.input + completion_tokens * price.output) / 1e6, True

    def with_overrides(self, overrides: dict[str, dict | ModelPrice]) -> "PriceTable":
        """A copy with some prices added or replaced."""
        merged = dict(self.prices)
        for name, value in overrides.items():
            merged[name.lower()] = (value if isinstance(value, ModelPrice)
                                    else ModelPrice.model_validate(value))
        return PriceTable(prices=merged)
