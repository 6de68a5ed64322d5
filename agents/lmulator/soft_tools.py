"""Soft tools: maker-written code that calls semantic helpers with no body, run and verified via the LMulator."""
from __future__ import annotations

import asyncio
import ast

from agents.llm.accounting import spend_of
from agents.lmulator.runner import LMulator, RunResult
from agents.lmulator.scopes import helper_names
from agents.tasks.scoring import is_correct
from bus.wire.messages import CaseResult, ErrorInfo, Verdict
from bus.wire.tool_spec import Example, ToolCode


def undefined_helpers(code: str) -> list[str]:
    """Names the code calls but never defines or imports: the helpers the LM must simulate."""
    return sorted(helper_names(ast.parse(code), set()))


def is_soft_tool(code: str) -> bool:
    """True when the code calls at least one helper it does not define."""
    try:
        return bool(undefined_helpers(code))
    except SyntaxError:
        return False


async def run_soft_tool(lmulator: LMulator, spec: ToolCode, question: str) -> RunResult:
    """Use a soft tool version on one request: entry(question) with helpers simulated."""
    return await lmulator.run_tool(spec.code, spec.entry, [question], context=question)


async def verify_soft_tool(lmulator: LMulator, code: str, entry: str, cases: list[Example], *,
                           task: str = "", concurrency: int = 4) -> Verdict:
    """Run a soft tool on every case (input -> entry(input)) and score it with the task's rules."""
    gate = asyncio.Semaphore(concurrency)

    records = []

    async def one(case: Example) -> CaseResult:
        async with gate:
            run = await lmulator.run_tool(code, entry, [case.input], context=case.input)
        records.extend(run.records)
        if not run.ok:
            return CaseResult(input=case.input, expected=case.target, ok=False,
                              error=f"{run.error}: {run.detail}"[:600])
        got = run.answer if run.answer is not None else ""
        return CaseResult(input=case.input, expected=case.target, got=got,
                          ok=is_correct(got, case.target, task))

    results = list(await asyncio.gather(*(one(c) for c in cases)))
    failed_all = results and all(r.error and r.error.startswith(("forbidden", "program_error"))
                                 for r in results)
    error = ErrorInfo(code="soft_tool_rejected", message=results[0].error or "") \
        if failed_all else None
    return Verdict(passed=sum(r.ok for r in results), total=len(results), cases=results,
                   error=error, spend=spend_of(records))
