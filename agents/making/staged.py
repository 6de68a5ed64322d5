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
# (code, entry, cases) -> verdict from the sandbox verifier, scored by the task's rules.
Check = Callable[[str, str, list[Example]], Awaitable[Verdict]]


@dataclass(frozen=True)
class StagedBudget:
    """How many compute functions may be drawn, and at what temperature."""

    samples: int = 4
    rounds: int = 2
    temperature: float = 0.8


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


def closeness(verdict: Verdict) -> tuple[int, float]:
    """Cases passed, then how alike the other answers are to the expected ones: of functions
    that pass nothing, one returning ']' for ']]' is a better start for a repair than 'Invalid'."""
    alike = [SequenceMatcher(None, c.got, c.expected).ratio() for c in verdict.cases
             if not c.ok and c.got is not None]
    return verdict.passed, sum(alike) / len(verdict.cases) if verdict.cases else 0.0


class StagedMaking:
    """Finds the frame, then samples compute functions; yields composed candidate tools."""

    def __init__(self, draw: Draw, check: Check, budget: StagedBudget) -> None:
        self.draw = draw
        self.check = check
        self.budget = budget
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
        """Sample-and-verify compute; returns the first version that passes all cases, if any.
        Round one asks for code straight away; later rounds alternate repairs of the best
        function so far (shown its exact failures) with fresh plan-then-code draws."""
        seen, best, n = set(), None, self.budget.samples
        for round_no in range(self.budget.rounds):
            for i in range(n):
                temperature = self.budget.temperature * i / max(1, n - 1)
                seed = 100 * round_no + i
                if round_no == 0:
                    history = asks.code_only()
                elif best is not None and i % 2 == 0:
                    # At temperature 0 a repair tends to repeat the function it was shown.
                    temperature = max(temperature, self.budget.temperature / 2)
                    history = prompts.compute_feedback(*best)
                else:
                    plan = await self.draw(asks.plan(), temperature, seed, PLAN_MAX_TOKENS)
                    history = asks.after_plan(plan)
                reply = await self.draw(history, temperature, seed, COMPUTE_MAX_TOKENS)
                try:
                    code = add_missing_imports(extract_function(reply, "compute"))
                except (CodeExtractionError, SyntaxError):
                    continue
                if code in seen:
                    continue
                seen.add(code)
                verdict = await self.check(compute_harness(code), "check_compute", cases)
                if verdict.passed == verdict.total:
                    return code  # stop at the first verified computation: samples cost
                if best is None or closeness(verdict) > closeness(best[2]):
                    best = (history, reply, verdict)
        self.notes.append(f"no compute function returned all {len(cases)} training answers")
        return None
