"""The Verifier agent: run a candidate tool against labelled cases in the sandbox, case by case."""
from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from agents.llm.accounting import CallRecord, spend_of
from agents.llm.client import LLMClient
from agents.llm.errors import LLMError
from agents.lmulator.runner import LMulator
from agents.lmulator.soft_tools import verify_soft_tool
from agents.sandbox import ForbiddenCode, Sandbox, check_code
from agents.sandbox.sandboxed_agent import SandboxedAgent
from agents.tasks.scoring import is_correct
from agents.using.answers import render_value
from agents.using.arguments import ArgumentError, extract_arguments
from bus.wire.messages import CaseResult, Verdict, VerifyTool


class Verifier(SandboxedAgent):
    """Pure function of (code, cases) in effect: same inputs, same verdict."""

    handlers: ClassVar[dict] = {VerifyTool: "verify"}

    def __init__(self, sandbox: Sandbox, llm: LLMClient | None = None, timeout_s: float = 2.0) -> None:
        self.sandbox = sandbox
        self.llm = llm
        self.timeout_s = timeout_s

    async def verify(self, msg: VerifyTool) -> Verdict:
        """Run every case; a forbidden or broken tool fails all cases with the reason."""
        try:
            check_code(msg.code)
        except ForbiddenCode as exc:
            return _verdict(msg, [(None, f"forbidden: {exc}")] * len(msg.cases))
        if msg.shape == "soft":
            return await self._verify_soft(msg)
        arg_lists, problems, records = await self._arguments(msg)
        runnable = [i for i, p in enumerate(problems) if p is None]
        results = await self.sandbox.call_many(msg.code, msg.entry, [arg_lists[i] for i in runnable],
                                               timeout_s=msg.timeout_s or self.timeout_s)
        outcomes: list[tuple[Any, str | None]] = [(None, p) for p in problems]
        for i, res in zip(runnable, results):
            outcomes[i] = (render_value(res.value), None) if res.ok else (None, _error_text(res))
        return _verdict(msg, outcomes).model_copy(update={"spend": spend_of(records)})

    async def _verify_soft(self, msg: VerifyTool) -> Verdict:
        """A soft tool's helper calls are simulated by the LMulator; it must pass like any tool."""
        if self.llm is None:
            return _verdict(msg, [(None, "soft tools need an LLM to simulate their helpers")] * len(msg.cases))
        verdict = await verify_soft_tool(LMulator(self.llm, self.sandbox), msg.code, msg.entry,
                                         list(msg.cases), task=msg.task)
        return verdict.model_copy(update={"request_id": msg.request_id, "trace_id": msg.trace_id})

    async def _arguments(self, msg: VerifyTool) -> tuple[list[list], list[str | None], list[CallRecord]]:
        """Arguments per case (the raw text for end-to-end tools, model-extracted otherwise), the
        problem of each case that has none, and the extraction calls made."""
        if msg.shape == "end_to_end":
            return [[c.input] for c in msg.cases], [None] * len(msg.cases), []
        if self.llm is None:
            return ([[] for _ in msg.cases],
                    ["structured tools need an LLM to extract arguments"] * len(msg.cases), [])
        from agents.making.code_extract import function_signature
        signature = function_signature(msg.code, msg.entry)
        found = await asyncio.gather(*(
            extract_arguments(self.llm, c.input, msg.code, msg.entry, signature) for c in msg.cases),
            return_exceptions=True)
        args, problems, records = [], [], []
        for item in found:
            if isinstance(item, (ArgumentError, LLMError)):
                args.append([]); problems.append(f"argument extraction failed: {item}")
            elif isinstance(item, BaseException):
                raise item
            else:
                args.append(item[0]); problems.append(None); records.append(item[1])
        return args, problems, records


# A traceback ends with the exception: keep its tail, where the model sees what went wrong.
ERROR_TAIL_CHARS = 600


def _error_text(res) -> str:
    """A short description of a failed sandbox call: its kind and the end of its detail."""
    detail = res.detail if len(res.detail) <= ERROR_TAIL_CHARS else "..." + res.detail[-ERROR_TAIL_CHARS:]
    return f"{res.error}: {detail}"


def _verdict(msg: VerifyTool, outcomes: list[tuple[str | None, str | None]]) -> Verdict:
    """Score each outcome against its case's target with the task's answer rules."""
    cases = []
    for case, (got, error) in zip(msg.cases, outcomes):
        ok = error is None and got is not None and is_correct(got, case.target, msg.task)
        cases.append(CaseResult(input=case.input, expected=case.target, got=got, ok=ok, error=error))
    return Verdict(request_id=msg.request_id, trace_id=msg.trace_id,
                   passed=sum(c.ok for c in cases), total=len(cases), cases=cases)
