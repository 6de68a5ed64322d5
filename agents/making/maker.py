"""The Maker agent: sample candidate tools from the maker model, keep the one that verifies best."""
from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agents.llm.client import LLMClient
from agents.lmulator.soft_tools import is_soft_tool
from agents.making import prompts
from agents.making.code_extract import (
    CodeExtractionError, add_missing_imports, extract_function, function_docstring,
    function_signature)
from agents.making.asks import Ask, asks_for
from agents.making.feedback import default_doc, describe_failures, failure_reason, slugify
from agents.making.journal import MakingJournal, journal_path_from_env
from agents.making.staged import StagedBudget, StagedMaking
from bus.wire.messages import MakeTool, ToolMade, Verdict, VerifyTool, new_request_id
from bus.wire.spend import NOTHING, Spend
from bus.wire.tool_spec import Demo, Example, Provenance, ToolSpec


class CandidateVerifier(Protocol):
    """What the maker verifies candidates with: a Verifier, or a pool of verifier actors."""

    async def start(self) -> None: ...

    async def verify(self, msg: VerifyTool) -> Verdict: ...

    async def close(self) -> None: ...


class MakerConfig(BaseModel):
    """Budgets and knobs of sample-and-verify tool making."""

    model_config = ConfigDict(extra="forbid")
    samples_per_round: int = Field(default=4, ge=1, description="candidates drawn per round")
    rounds: int = Field(default=3, ge=1, description="propose/feedback rounds per tool shape")
    temperature: float = Field(default=0.8, ge=0, description="sampling temperature (> 0 for diversity)")
    max_tokens: int = Field(default=700, ge=64, description="completion budget per candidate")
    token_budget: int = Field(default=60000, ge=1000, description="total tokens one tool may cost")
    compute_timeout_s: float = Field(
        default=0.5, gt=0, description="limit per training call of a staged compute function: "
        "far below the serving limit, so code that is slow on the examples is fixed before larger "
        "values time it out")
    accept_rate: float = Field(default=1.0, gt=0, le=1, description="validation pass rate to accept")
    shapes: tuple[Literal["core", "staged", "end_to_end", "structured"], ...] = Field(
        default=("core", "staged", "end_to_end"), min_length=1,
        description="tool shapes to try, in order (cheapest first: core prompts are the shortest)")
    journal_path: str | None = Field(
        default_factory=journal_path_from_env, description="JSON Lines file that records every "
        "draw and its verdict (default: $LATM_MAKING_JOURNAL, else none)")


class _BudgetSpent(Exception):
    """The tool's token budget is spent: stop drawing samples."""


@dataclass
class _Candidate:
    """One proposed function and how it fared."""

    code: str
    reply: str
    history: list[dict]
    ask: Ask
    shape: str = "end_to_end"
    verdict: Verdict | None = None
    problem: str = ""

    @property
    def score(self) -> tuple[int, int]:
        return (self.verdict.passed, -len(self.code)) if self.verdict else (-1, 0)


@dataclass
class _Spend:
    """Tokens and cost spent making one tool."""

    llm: Spend = NOTHING  # the maker's samples and the other roles' calls while verifying
    samples: int = 0
    rounds: int = 0
    seen: set[str] = field(default_factory=set)

    @property
    def tokens(self) -> int:
        return self.llm.role("maker").tokens


class Maker:
    """Makes one verified tool per MakeTool message, or says why it could not."""

    handlers: ClassVar[dict] = {MakeTool: "make"}

    def __init__(self, llm: LLMClient, verifier: CandidateVerifier, config: MakerConfig | None = None) -> None:
        self.llm = llm
        self.verifier = verifier
        self.config = config or MakerConfig()
        self.journal = MakingJournal(self.config.journal_path)
        # Kinds interleaved on a busy endpoint all finish late; in turn, the first is ready early.
        # As many makings run at once as the role's concurrency can give a full round of samples.
        at_once = llm.config.role("maker").concurrency // self.config.samples_per_round
        self._making_slots = asyncio.Semaphore(max(1, at_once))

    async def start(self) -> None:
        """Start the verifier (a local sandbox, or verifier actors)."""
        await self.verifier.start()

    async def close(self) -> None:
        """Release the verifier and the HTTP client."""
        await self.verifier.close()
        await self.llm.aclose()

    async def make(self, msg: MakeTool) -> ToolMade:
        """Make one tool once a making slot is free (kinds queue in arrival order)."""
        async with self._making_slots:
            return await self._make(msg)

    async def _make(self, msg: MakeTool) -> ToolMade:
        """Run sample-and-verify for each configured tool shape in turn; the first to verify wins."""
        spend = _Spend()
        known = await self._reuse(msg, spend)
        if known is not None:
            return known
        best: _Candidate | None = None
        for shape in self.config.shapes:
            if shape == "staged":
                winner, best_here = await self._make_staged(msg, spend)
            else:
                winner, best_here = await self._make_shape(msg, asks_for(msg, shape), spend)
            if winner is not None:
                return self._made(msg, winner, spend)
            best = best_here if best is None or (best_here and best_here.score > best.score) else best
            if spend.tokens >= self.config.token_budget:
                break
        return ToolMade(request_id=msg.request_id, trace_id=msg.trace_id, task=msg.task, ok=False,
                        tool=None, samples=spend.samples, rounds=spend.rounds,
                        spend=spend.llm, reason=failure_reason(best, spend, self.config))

    async def _reuse(self, msg: MakeTool, spend: _Spend) -> ToolMade | None:
        """A stored tool that already passes these examples is the answer: nothing to make."""
        for tool in msg.known_tools:
            verdict = await self._check(msg, tool.code, tool.entry, tool.shape)
            spend.llm += verdict.spend
            if self._accepted(msg, verdict):
                return ToolMade(request_id=msg.request_id, trace_id=msg.trace_id, task=msg.task,
                                ok=True, tool=tool, reused=True, spend=spend.llm,
                                reason=f"{tool.tool_id}@{tool.version} passed {verdict.passed}/{verdict.total}")
        return None

    async def _make_shape(self, msg: MakeTool, asks: list[Ask],
                          spend: _Spend) -> tuple[_Candidate | None, _Candidate | None]:
        """Rounds of sampling over the asks of one shape; returns (accepted, best seen)."""
        conversations = [(ask, ask.opening) for ask in asks]
        best: _Candidate | None = None
        n = self.config.samples_per_round
        for round_no in range(self.config.rounds if asks else 0):
            if spend.tokens >= self.config.token_budget:
                break
            spend.rounds += 1
            candidates = await asyncio.gather(*(
                self._sample(*conversations[i % len(conversations)], spend, seed=i,
                             temperature=self.config.temperature * (i + 1) / n)
                for i in range(n)))
            fresh = [c for c in candidates if c.problem == "" and _mark_new(c, spend)]
            verdicts = await asyncio.gather(*(self._check(msg, c.code, c.ask.entry, c.shape) for c in fresh))
            for cand, verdict in zip(fresh, verdicts):
                cand.verdict = verdict
                spend.llm += verdict.spend
            for cand in [c for c in candidates if c.verdict is not None or not c.code]:  # no repeats
                self.journal.draw(msg.task, cand.shape, "repair" if round_no else "code",
                                  cand.history, cand.reply, cand.code or None, cand.verdict)
            round_best = max(candidates, key=lambda c: c.score)
            if best is None or round_best.score > best.score:
                best = round_best
            if round_best.verdict and self._accepted(msg, round_best.verdict):
                return round_best, best
            # The next round repairs the best candidate so far, in its own conversation.
            conversations = [(round_best.ask, prompts.feedback_messages(
                round_best.history, round_best.reply, describe_failures(round_best, len(msg.train))))]
        return None, best

    async def _make_staged(self, msg: MakeTool,
                           spend: _Spend) -> tuple[_Candidate | None, _Candidate | None]:
        """Plan, compute and parse stages (see staged.py); each composed tool is verified whole."""
        async def draw(history: list[dict], temperature: float, seed: int,
                       max_tokens: int | None = None) -> str:
            if spend.tokens >= self.config.token_budget:
                raise _BudgetSpent
            return await self._draw(history, temperature, seed, spend, max_tokens)

        async def check(code: str, entry: str, cases: list[Example], timeout_s: float | None) -> Verdict:
            verdict = await self.verifier.verify(VerifyTool(
                request_id=new_request_id(), trace_id=msg.trace_id, task=msg.task, code=code,
                entry=entry, shape="end_to_end", cases=cases, timeout_s=timeout_s))
            spend.llm += verdict.spend
            return verdict

        budget = StagedBudget(samples=self.config.samples_per_round,
                              rounds=self.config.rounds, temperature=self.config.temperature,
                              timeout_s=self.config.compute_timeout_s)
        record = functools.partial(self.journal.draw, msg.task, "staged")
        staged, best = StagedMaking(draw, check, budget, record), None
        spend.rounds += 1
        try:
            async for code in staged.candidates(default_doc(msg), list(msg.train)):
                cand = _Candidate(code=code, reply="", history=[], ask=Ask([], "solve"),
                                  verdict=await self._check(msg, code, "solve", "end_to_end"))
                spend.llm += cand.verdict.spend
                best = cand if best is None or cand.score > best.score else best
                if self._accepted(msg, cand.verdict):
                    return cand, best
        except _BudgetSpent:
            pass
        if best is None and staged.notes:
            best = _Candidate(code="", reply="", history=[], ask=Ask([], "solve"),
                              problem="; ".join(staged.notes[-3:]))
        return None, best

    async def _draw(self, history: list[dict], temperature: float, seed: int, spend: _Spend,
                    max_tokens: int | None = None) -> str:
        """One maker completion, its tokens and cost added to the spend."""
        completion = await self.llm.chat("maker", history, temperature=temperature,
                                         max_tokens=max_tokens or self.config.max_tokens,
                                         seed=seed + 1000 * spend.rounds)
        spend.llm += completion.record.spend
        spend.samples += 1
        return completion.text

    async def _sample(self, ask: Ask, history: list[dict], spend: _Spend, seed: int,
                      temperature: float) -> _Candidate:
        """Draw one candidate; a reply without a usable function is kept with its problem."""
        # A ladder of temperatures: the first samples stay near the model's best guess.
        text = await self._draw(history, temperature, seed, spend)
        try:
            code = ask.wrap(add_missing_imports(extract_function(text, ask.entry)))
            return _Candidate(code=code, reply=text, history=history, ask=ask,
                              shape=_shape_of(code, ask.entry))
        except CodeExtractionError as exc:
            return _Candidate(code="", reply=text, history=history, ask=ask, problem=str(exc))

    async def _check(self, msg: MakeTool, code: str, entry: str, shape: str) -> Verdict:
        """Verify a candidate (or a stored tool) on training and validation cases together."""
        cases = list(msg.train) + list(msg.validation)
        # A fresh id per candidate: the bus answers each request id once.
        return await self.verifier.verify(VerifyTool(request_id=new_request_id(), trace_id=msg.trace_id,
                                             task=msg.task, code=code, entry=entry, shape=shape,
                                             cases=cases))

    def _accepted(self, msg: MakeTool, verdict: Verdict) -> bool:
        """All training cases and enough held-out validation cases must pass."""
        n_train = len(msg.train)
        train_ok = all(c.ok for c in verdict.cases[:n_train])
        held_out = verdict.cases[n_train:]
        rate = sum(c.ok for c in held_out) / len(held_out) if held_out else 0.0
        return train_ok and rate >= self.config.accept_rate

    def _made(self, msg: MakeTool, cand: _Candidate, spend: _Spend) -> ToolMade:
        """Wrap the accepted candidate into a ToolSpec with demos and tests."""
        shape, entry = cand.shape, cand.ask.entry
        maker = spend.llm.role("maker")
        n_train = len(msg.train)
        demos = tuple(Demo(input=c.input, call=f"{entry}(...)", output=c.got or "")
                      for c in cand.verdict.cases[:n_train])
        spec = ToolSpec(
            tool_id=slugify(msg.task), task=msg.task, entry=entry, shape=shape, code=cand.code,
            signature=function_signature(cand.code, entry),
            docstring=function_docstring(cand.code, entry) or default_doc(msg),
            demos=demos, tests=tuple(msg.validation),
            provenance=Provenance(maker_model=maker.model, prompt_version=prompts.PROMPT_VERSION,
                                  prompt_tokens=maker.prompt_tokens,
                                  completion_tokens=maker.completion_tokens,
                                  cost_usd=maker.cost_usd, samples=spend.samples,
                                  rounds=spend.rounds, created_at=time.time()))
        return ToolMade(request_id=msg.request_id, trace_id=msg.trace_id, task=msg.task, ok=True,
                        tool=spec, samples=spend.samples, rounds=spend.rounds, spend=spend.llm, reason="")


def _shape_of(code: str, entry: str) -> str:
    """Structured when it takes arguments; soft when it calls helpers it never defines (the
    LMulator simulates those); else end-to-end."""
    if entry != "solve":
        return "structured"
    return "soft" if is_soft_tool(code) else "end_to_end"


def _mark_new(cand: _Candidate, spend: _Spend) -> bool:
    """Identical samples are verified once: mark the repeats as duplicates."""
    digest = hashlib.sha256(cand.code.encode()).hexdigest()
    if digest in spend.seen:
        cand.problem = "duplicate of an earlier candidate"
        return False
    spend.seen.add(digest)
    return True
