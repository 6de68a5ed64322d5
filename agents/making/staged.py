"""The staged shape: the frame gives the parser, the model writes only the computation.

A small maker rarely writes a whole question-to-answer program at once: parsing long questions
is where it fails (and where a model-written plan of the values miscopies them). So the stages
are split by who does them best:
1. *frame* (no model): align the training questions; what differs becomes typed slots, and the
   frame becomes `parse(question) -> dict` (slots.py);
2. *compute* (the model): write `compute(...)` over the slot values, shown the frame with its
   slots numbered and the training calls with their answers, naming the parameters itself;
   sample-and-verify in the sandbox: code first, then repairs shown the exact failures of the
   training calls, and plan-then-code draws;
3. *compose*: the tool is `compute(**parse(question))`, verified like any other candidate on the
   training and held-out cases. Only training examples ever appear in prompts or feedback.
"""
from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from agents.making import slot_values
from agents.making import staged_prompts as prompts
from agents.making.code_extract import CodeExtractionError, add_missing_imports, extract_function
from agents.making.parameters import parameters_for
from agents.making.slots import find_slots
from bus.wire.messages import Verdict
from bus.wire.tool_spec import Example

# (messages, temperature, seed[, max_tokens]) -> the model's reply text; the maker counts the spend.
Draw = Callable[..., Awaitable[str]]
# A plan is a few sentences and compute a short function: caps stop a small model rambling
# (or looping on one line) at 10 tokens/s.
PLAN_MAX_TOKENS = 260
COMPUTE_MAX_TOKENS = 400
# (ask, conversation, reply, code or None, verdict or None: a repeat): each draw, for the journal.
Record = Callable[[str, list[dict], str, str | None, Verdict | None], None]
# (code, entry, cases, timeout_s) -> verdict from the sandbox verifier, scored by the task's
# rules; a timeout of None is the verifier's own (the serving limit).
Check = Callable[[str, str, list[Example], float | None], Awaitable[Verdict]]


@dataclass(frozen=True)
class StagedBudget:
    """How many compute functions may be drawn, at what temperature, and how fast they must be."""

    samples: int = 4
    rounds: int = 2
    temperature: float = 0.8
    # Far below the serving limit: code slow on the examples times out on larger values.
    timeout_s: float = 0.5


def compute_harness(code: str) -> str:
    """The model's compute function, callable with one JSON list of its arguments; the slot
    helpers (`clock`) are defined around it as in the composed tool."""
    return (f"{inspect.getsource(slot_values)}\n\n{code}\n\nimport json as _json\n\n\n"
            f"def check_compute(arguments: str) -> str:\n"
            f"    return str(compute(*_json.loads(arguments)))\n")


def compose(compute_code: str, parse_code: str, arguments_code: str, doc: str) -> str:
    """The tool: parse the question, then compute the answer from its arguments."""
    return (f"{compute_code}\n\n{parse_code}\n\n{arguments_code}\n\n"
            f"def solve(question: str) -> str:\n    {doc!r}\n"
            f"    return str(compute(*arguments(parse(question))))\n")


def closeness(verdict: Verdict) -> tuple[int, int, float]:
    """Right answers (in time or not), then those in time, then how alike the other answers are
    to the expected ones: a right but slow function needs only speed, and of functions that pass
    nothing, one returning ']' for ']]' is a better start for a repair than 'Invalid'."""
    slow = sum(prompts.is_slow(c) for c in verdict.cases)
    alike = [SequenceMatcher(None, c.got, c.expected).ratio() for c in verdict.cases
             if not c.ok and not prompts.is_slow(c) and c.got is not None]
    return (verdict.passed + slow, verdict.passed,
            sum(alike) / len(verdict.cases) if verdict.cases else 0.0)


@dataclass(frozen=True)
class _Attempt:
    """One drawn compute function: the conversation that asked for it, the reply, its code and
    its verdict on the training calls."""

    history: list[dict]
    reply: str
    code: str
    verdict: Verdict


class StagedMaking:
    """Finds the frame, then samples compute functions; yields composed candidate tools."""

    def __init__(self, draw: Draw, check: Check, budget: StagedBudget,
                 record: Record | None = None) -> None:
        self.draw = draw
        self.check = check
        self.budget = budget
        self.record = record or (lambda *_: None)
        self.notes: list[str] = []  # why the stages failed, for the maker's failure reason

    async def candidates(self, task_doc: str, train: list[Example]):
        """The composed tool, when a compute function verifies on the training calls."""
        template = find_slots([ex.input for ex in train])
        if template is None:
            self.notes.append("the training questions share no frame with slots")
            return
        values = [template.values(ex.input) for ex in train]
        params = parameters_for(template, values)
        arguments = [params.arguments(v) for v in values]
        cases = [Example(input=json.dumps(a), target=ex.target) for a, ex in zip(arguments, train)]
        asks = prompts.ComputePrompts.of(template, params, values[0], arguments, train)
        compute_code = await self._stage(asks, cases)
        if compute_code is not None:
            yield compose(compute_code, template.parser_source(), params.source(), task_doc)

    async def _stage(self, asks: prompts.ComputePrompts, cases: list[Example]) -> str | None:
        """Sample-and-verify compute; returns the first version that passes all cases in time,
        else one that is right but slow, if any (see `_ask` for what each draw is asked)."""
        seen, best, faster, n = set(), None, None, self.budget.samples
        for round_no in range(self.budget.rounds):
            for i in range(n):
                temperature = self.budget.temperature * i / max(1, n - 1)
                seed = 100 * round_no + i
                # Once right on every example, the best stays so: a replacement must rank higher.
                speeding = round_no > 0 and best is not None and self._all_right(best)
                ask, history, temperature = await self._ask(asks, round_no, i, best, faster,
                                                            temperature, seed)
                reply, code = await self._compute(history, temperature, seed)
                if code in seen and ask == "repair":
                    # The repair came back unchanged: the model did not see its bug, so the
                    # draw goes to a fresh plan instead of being wasted.
                    self.record(ask, history, reply, code, None)
                    ask, history = "plan", await self._planned(asks, temperature, seed + 50)
                    reply, code = await self._compute(history, temperature, seed + 50)
                if code is None or code in seen:
                    self.record(ask, history, reply, code, None)
                    continue
                seen.add(code)
                verdict = await self._verify(code, cases)
                self.record(ask, history, reply, code, verdict)
                if verdict.passed == verdict.total:
                    return code  # stop at the first verified computation: samples cost
                attempt = _Attempt(history, reply, code, verdict)
                if speeding:
                    faster = attempt
                if best is None or closeness(verdict) > closeness(best.verdict):
                    best = attempt
        if best is not None and self._all_right(best):
            # Slow on some examples but right on all: serving answers what it can in time and
            # the solver the rest, which beats no tool.
            self.notes.append("the compute function kept is right but slow on some examples")
            return best.code
        self.notes.append(f"no compute function returned all {len(cases)} training answers")
        return None

    async def _ask(self, asks: prompts.ComputePrompts, round_no: int, i: int,
                   best: _Attempt | None, faster: _Attempt | None, temperature: float,
                   seed: int) -> tuple[str, list[dict], float]:
        """What the i-th compute function of a round is asked (the ask's name, the conversation)
        and its temperature.
        Round one asks for code straight away. Later rounds alternate a repair of the best
        function so far (shown its exact failures) with a fresh plan, then code. Once the best
        is right but slow, they alternate asking how to make it faster (a plan, then code) with
        a repair of the last faster attempt."""
        if round_no == 0:
            return "code", asks.code_only(), temperature
        # At temperature 0 a repair tends to repeat the function it was shown.
        warm = max(temperature, self.budget.temperature / 2)
        limit = self.budget.timeout_s
        if faster is not None and i % 2 == 1:
            # A faster method drawn from a plan often has one bug (a wrong modulus, say):
            # repairing it keeps the method, where the slow function would only come back.
            return ("repair faster", prompts.compute_feedback(faster.history, faster.reply,
                                                              faster.verdict, limit, faster.code,
                                                              asks.arguments), warm)
        if best is not None and self._all_right(best):
            # Only speed is missing. Told so, a small model repeats its function; asked first
            # how to be faster, it names a quicker method and then writes it.
            asked = prompts.speed_plan(best.history, best.reply, best.verdict, limit)
            plan = await self.draw(asked, warm, seed, PLAN_MAX_TOKENS)
            return "speed plan", asks.after_plan(asked, plan), warm
        if best is not None and i % 2 == 0:
            if any(c.error for c in best.verdict.cases if not c.ok):
                # An exception names its line: the fix is usually plain.
                return ("repair", prompts.compute_feedback(best.history, best.reply,
                                                           best.verdict, limit, best.code,
                                                           asks.arguments), warm)
            asked = prompts.compute_feedback(best.history, best.reply, best.verdict, limit,
                                             best.code, asks.arguments, diagnose=True)
            why = await self.draw(asked, warm, seed, PLAN_MAX_TOKENS)
            return "repair", prompts.after_diagnosis(asked, why), warm
        return "plan", await self._planned(asks, temperature, seed), temperature

    async def _planned(self, asks: prompts.ComputePrompts, temperature: float,
                       seed: int) -> list[dict]:
        """A fresh plan drawn, and the conversation asking for the code it plans."""
        asked = asks.plan()
        plan = await self.draw(asked, temperature, seed, PLAN_MAX_TOKENS)
        return asks.after_plan(asked, plan)

    async def _compute(self, history: list[dict], temperature: float,
                       seed: int) -> tuple[str, str | None]:
        """One drawn reply and the compute function in it (None: the reply has none)."""
        reply = await self.draw(history, temperature, seed, COMPUTE_MAX_TOKENS)
        try:
            return reply, add_missing_imports(extract_function(reply, "compute"))
        except (CodeExtractionError, SyntaxError):
            return reply, None

    @staticmethod
    def _all_right(attempt: _Attempt) -> bool:
        """Whether a function returned every training answer, in time or not."""
        return closeness(attempt.verdict)[0] == attempt.verdict.total

    async def _verify(self, code: str, cases: list[Example]) -> Verdict:
        """Check compute under the making limit; calls that time out are run again under the
        serving limit, and those then right are marked slow, not wrong."""
        harness = compute_harness(code)
        verdict = await self.check(harness, "check_compute", cases, self.budget.timeout_s)
        late = [i for i, c in enumerate(verdict.cases) if (c.error or "").startswith("timeout")]
        if not late:
            return verdict
        again = await self.check(harness, "check_compute", [cases[i] for i in late], None)
        results = list(verdict.cases)
        for i, case in zip(late, again.cases):
            results[i] = case.model_copy(update={"ok": False, "error": prompts.SLOW}) if case.ok else case
        return verdict.model_copy(update={"cases": results})
