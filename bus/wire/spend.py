"""LLM spend as one value: calls, tokens and cost per role, added together by the type itself."""
from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field


class RoleSpend(BaseModel):
    """What one role's LLM calls used and cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str = Field(description="agent role that made the calls, e.g. 'user', 'solver'")
    model: str = Field(default="", description="model name the role used (the first one seen)")
    calls: int = Field(default=0, description="LLM calls made")
    prompt_tokens: int = Field(default=0, description="prompt tokens spent")
    completion_tokens: int = Field(default=0, description="completion tokens spent")
    cost_usd: float = Field(default=0.0, description="estimated spend")

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: RoleSpend) -> RoleSpend:
        return RoleSpend(role=self.role, model=self.model or other.model,
                         calls=self.calls + other.calls,
                         prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                         completion_tokens=self.completion_tokens + other.completion_tokens,
                         cost_usd=self.cost_usd + other.cost_usd)


class Spend(BaseModel):
    """LLM spend of a request, a tool's making or a run: one line per role, in order of first use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: tuple[RoleSpend, ...] = Field(default=(), description="spend per role, one line each")

    @classmethod
    def of(cls, role: str, model: str = "", calls: int = 1, prompt_tokens: int = 0,
           completion_tokens: int = 0, cost_usd: float = 0.0) -> Spend:
        """The spend of one role's calls."""
        return cls(roles=(RoleSpend(role=role, model=model, calls=calls, prompt_tokens=prompt_tokens,
                                    completion_tokens=completion_tokens, cost_usd=cost_usd),))

    @classmethod
    def total(cls, spends: Iterable[Spend]) -> Spend:
        """Several spends added together."""
        out = NOTHING
        for spend in spends:
            out = out + spend
        return out

    def __add__(self, other: Spend) -> Spend:
        # Most answers of a cached stream spend nothing: keep that path free of allocations.
        if not other.roles:
            return self
        if not self.roles:
            return other
        by_role = {r.role: r for r in self.roles}
        for r in other.roles:
            by_role[r.role] = by_role[r.role] + r if r.role in by_role else r
        return Spend(roles=tuple(by_role.values()))

    def role(self, name: str) -> RoleSpend:
        """One role's line (zero when the role spent nothing)."""
        return next((r for r in self.roles if r.role == name), RoleSpend(role=name))

    def by_role(self) -> dict[str, dict]:
        """role -> its calls, tokens and cost, as JSON-ready numbers."""
        return {r.role: r.model_dump(exclude={"role"}) for r in self.roles}

    @property
    def calls(self) -> int:
        """LLM calls over every role."""
        return sum(r.calls for r in self.roles)

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens over every role."""
        return sum(r.prompt_tokens for r in self.roles)

    @property
    def completion_tokens(self) -> int:
        """Completion tokens over every role."""
        return sum(r.completion_tokens for r in self.roles)

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens over every role."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> float:
        """Estimated spend over every role."""
        return sum(r.cost_usd for r in self.roles)


NOTHING = Spend()
