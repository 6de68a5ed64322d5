"""The solver: answers a question with no tool, by direct answer, chain of thought or chain of code."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.llm.accounting import CallRecord, spend_of
from agents.llm.client import LLMClient
from agents.llm.errors import LLMError
from agents.llm.reply_code import extract_program
from agents.lmulator.runner import LMulator, LMulatorConfig
from agents.lmulator.trace import Trace
from agents.solving.answer_extract import extract_answer, normalize_answer
from agents.solving.prompts import coc_messages, cot_messages, direct_messages
from bus.wire.spend import Spend

Method = Literal["direct", "cot", "coc"]
METHODS: tuple[str, ...] = ("direct", "cot", "coc")


class SolverResult(BaseModel):
    """One solved question: the answer, how it was found and what it cost."""

    answer: str | None = Field(default=None, description="normalised final answer; None if none")
    method: Method = Field(description="direct, cot or coc")
    trace: Trace | None = Field(default=None, description="coc only: every executed line")
    records: list[CallRecord] = Field(default_factory=list, description="every LLM call made")
    error: str | None = Field(default=None, description="None, or why no answer was found "
                              "(no_program, llm_error, or an LMulator error code)")
    detail: str = Field(default="", description="what went wrong, for people")
    program: str | None = Field(default=None, description="coc only: the program that was run")
    raw: str = Field(default="", description="the model's reply text (the program for coc)")

    @property
    def spend(self) -> Spend:
        """What answering this question spent, per role."""
        return spend_of(self.records)

    @property
    def llm_calls(self) -> int:
        """LLM calls spent on this question."""
        return self.spend.calls


class Solver:
    """Answers new-task requests for the pipeline (role "solver"); the LMulator runs coc programs."""

    def __init__(self, llm: LLMClient, sandbox: Any, *, role: str = "solver",
                 lmulator_config: LMulatorConfig | None = None,
                 max_tokens: dict[str, int] | None = None) -> None:
        self.llm = llm
        self.role = role
        self.lmulator = LMulator(llm, sandbox, lmulator_config)
        self.max_tokens = {"direct": 64, "cot": 400, "coc": 400, **(max_tokens or {})}

    async def solve(self, question: str, method: Method, *,
                    task_hint: str | None = None) -> SolverResult:
        """Answer `question` with `method`; failures come back as a result with `error` set."""
        if method not in METHODS:
            return SolverResult(method="direct", error="bad_method",
                                detail=f"unknown method {method!r}: use direct, cot or coc")
        builders = {"direct": direct_messages, "cot": cot_messages, "coc": coc_messages}
        try:
            completion = await self.llm.chat(self.role, builders[method](question, task_hint),
                                             max_tokens=self.max_tokens[method])
        except LLMError as exc:
            return SolverResult(method=method, error="llm_error",
                                detail=f"the {self.role} model failed: {exc}")
        records = [completion.record]
        if method != "coc":
            answer = extract_answer(completion.text, question)
            return SolverResult(answer=answer, method=method, records=records,
                                raw=completion.text,
                                error=None if answer else "no_answer",
                                detail="" if answer else "the reply held no answer")
        return await self._run_program(question, completion.text, records)

    async def _run_program(self, question: str, reply: str,
                           records: list[CallRecord]) -> SolverResult:
        """Chain of code: extract the program and run it through the LMulator."""
        program = extract_program(reply)
        if program is None:
            return SolverResult(method="coc", records=records, raw=reply, error="no_program",
                                detail="the reply held no parseable Python program")
        run = await self.lmulator.run(program, context=question)
        records = records + run.records
        answer = normalize_answer(run.answer, question) if run.ok else None
        if run.error == "no_answer" and run.trace.output:
            # The program printed its result instead of assigning it: take the last print.
            answer = normalize_answer(run.trace.output[-1], question)
        return SolverResult(answer=answer, method="coc", trace=run.trace, records=records,
                            error=None if answer else (run.error or "no_answer"),
                            detail=run.detail, program=program, raw=reply)
