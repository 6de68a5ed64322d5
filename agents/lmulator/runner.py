"""The LMulator: runs a transformed program in a sandbox worker and answers its call-backs with the LM."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, Field

from agents.llm.accounting import CallRecord
from agents.llm.client import LLMClient
from agents.llm.errors import LLMError
from agents.lmulator.errors import LMulatorError, ProgramError, StateReplyError
from agents.lmulator.prompts import line_messages, retry_message
from agents.lmulator.replies import reply_from_text
from agents.lmulator.state import ReplyLimits
from agents.lmulator.trace import Trace, TraceStep, build_trace
from agents.lmulator.transform import TransformedProgram, transform_program

ABORT_MARK = "coc_abort: "


class LMulatorConfig(BaseModel):
    """Budgets and caps of one LMulator run."""

    role: str = Field(default="lmulator", description="LLM role that simulates lines")
    answer_var: str = Field(default="answer", description="variable holding the program's answer")
    max_simulated_lines: int = Field(default=40, gt=0,
                                     description="most lines the LM may simulate in one run")
    max_tokens: int = Field(default=60_000, gt=0,
                            description="most LM tokens (prompt + completion) in one run")
    max_wall_s: float = Field(default=300.0, gt=0,
                              description="wall-clock budget of one run incl. LM calls")
    python_timeout_s: float = Field(default=5.0, gt=0, description="sandbox deadline for the "
                                    "Python part of a run (paused while the LM answers)")
    line_max_tokens: int = Field(default=160, gt=0,
                                 description="completion token cap of a state-mode reply")
    value_max_tokens: int = Field(default=48, gt=0, description="completion token cap of a "
                                  "value-mode reply (one literal on one line)")
    temperature: float = Field(default=0.0, ge=0, description="sampling temperature for lines")
    reply_retries: int = Field(default=1, ge=0,
                               description="re-asks after a rejected state reply before aborting")
    max_reply_chars: int = Field(default=4000, gt=0, description="cap on one LM state reply")
    max_state_chars: int = Field(default=6000, gt=0,
                                 description="cap on the state snapshot sent to the LM")
    max_trace_steps: int = Field(default=300, gt=0, description="trace steps recorded per run")


class RunResult(BaseModel):
    """What one LMulator run produced."""

    ok: bool = Field(description="True when the program finished")
    answer: str | None = Field(default=None, description="str() of the answer variable "
                               "(program runs), or of the tool's return value (tool runs)")
    answer_repr: str | None = Field(default=None, description="repr of the answer/return value")
    value: Any = Field(default=None, description="tool runs: the JSON-safe return value")
    error: str | None = Field(default=None, description="None, or a code: program_error, "
                              "budget, state_reply, timeout, memory, forbidden, tool_error, "
                              "llm_error, no_answer, sandbox_error")
    detail: str = Field(default="", description="what went wrong and how to fix it")
    trace: Trace = Field(default_factory=Trace, description="every executed line")
    records: list[CallRecord] = Field(default_factory=list, description="LM calls of the run")
    program: str = Field(default="", description="the program that was run")


class RunState:
    """Book-keeping of one run, shared by the call-back and the result builder."""

    def __init__(self, program: TransformedProgram, context: str | None) -> None:
        self.program = program
        self.context = context
        self.started = time.monotonic()
        self.records: list[CallRecord] = []
        self.host_steps: list[TraceStep] = []
        self.rejected: list[str] = []
        self.abort: tuple[str, str] | None = None  # (error code, detail)

    @property
    def tokens(self) -> int:
        """LM tokens spent so far."""
        return sum(r.prompt_tokens + r.completion_tokens for r in self.records)


class LMulator:
    """Chain of Code: Python runs what it can; the LM simulates the statements that fail."""

    def __init__(self, llm: LLMClient, sandbox: Any, config: LMulatorConfig | None = None) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.config = config or LMulatorConfig()
        self.limits = ReplyLimits(max_chars=self.config.max_reply_chars)

    async def run(self, program: str, *, context: str | None = None) -> RunResult:
        """Run a program; its answer is the designated variable (config.answer_var)."""
        return await self._execute(program, context, tool_entry=None, args=[])

    async def run_tool(self, code: str, entry: str, args: list, *,
                       context: str | None = None) -> RunResult:
        """Call a soft tool: `entry(*args)`, with its semantic helpers simulated by the LM."""
        return await self._execute(code, context, tool_entry=entry, args=list(args))

    async def _execute(self, source: str, context: str | None, tool_entry: str | None,
                       args: list) -> RunResult:
        """Transform, run in the sandbox with the call-back, and assemble the result."""
        cfg = self.config
        try:
            program = transform_program(
                source, answer_var=cfg.answer_var, tool_entry=tool_entry,
                max_trace=cfg.max_trace_steps, state_chars=cfg.max_state_chars)
        except ProgramError as exc:
            return RunResult(ok=False, error=exc.code, detail=str(exc), program=source)
        early = precheck(source)
        if early is not None:
            return RunResult(ok=False, error="forbidden", detail=early, program=source)
        run = RunState(program, context)

        async def on_callback(payload: dict) -> dict:
            return await self._answer(run, payload)

        try:
            # Cancelling the call kills its worker, so the wall budget is a hard stop.
            result = await asyncio.wait_for(
                self.sandbox.call(program.code, program.entry, [args],
                                  timeout_s=cfg.python_timeout_s, on_callback=on_callback),
                timeout=cfg.max_wall_s)
        except asyncio.TimeoutError:
            return self._finish(run, None, "budget", f"the run exceeded its wall-time budget of "
                                f"{cfg.max_wall_s:.0f}s: raise LMulatorConfig.max_wall_s")
        except Exception as exc:  # noqa: BLE001 - a broken sandbox is a result, not a crash
            return self._finish(run, None, "sandbox_error",
                                f"the sandbox failed: {type(exc).__name__}: {exc}")
        if run.abort is not None:
            raw = result.value if result.ok and isinstance(result.value, dict) else None
            return self._finish(run, raw, *run.abort)
        if not result.ok:
            return self._finish(run, None, result.error or "sandbox_error", result.detail)
        return self._finish(run, result.value, None, "", tool=tool_entry is not None)

    def _finish(self, run: RunState, raw: dict | None, error: str | None, detail: str,
                tool: bool = False) -> RunResult:
        """Build the RunResult from the worker's raw result (if any) and the host's records."""
        trace = build_trace(run.program, raw, run.host_steps, run.rejected)
        out = RunResult(ok=error is None, error=error, detail=detail, trace=trace,
                        records=list(run.records), program=run.program.source)
        if error is None and raw is not None:
            if tool:
                out.value, out.answer_repr = raw.get("value"), raw.get("value_repr")
                out.answer = None if out.value is None else str(out.value)
            elif raw.get("answer_set"):
                out.answer, out.answer_repr = raw.get("answer"), raw.get("answer_repr")
            else:
                out.ok, out.error = False, "no_answer"
                out.detail = (f"the program finished without setting `{self.config.answer_var}`"
                              ": assign the final answer to that variable")
        return out

    async def _answer(self, run: RunState, payload: dict) -> dict:
        """The call-back: ask the LM for a failing site's value or state change."""
        if run.abort is not None:
            return {"abort": run.abort[1]}
        site = run.program.sites.get(payload.get("site")) if isinstance(payload, dict) else None
        if site is None:
            return self._abort(run, "sandbox_error", f"unknown call-back payload {payload!r:.200}")
        over = self._over_budget(run)
        if over:
            return self._abort(run, "budget", over)
        state = payload.get("state") if isinstance(payload.get("state"), dict) else {}
        call = payload.get("call") if isinstance(payload.get("call"), str) else None
        messages = line_messages(run.program.source, site, state, str(payload.get("error", "")),
                                 run.context, call=call)
        for attempt in range(self.config.reply_retries + 1):
            try:
                value_mode = site.mode == "value"
                completion = await self.llm.chat(
                    self.config.role, messages, temperature=self.config.temperature,
                    max_tokens=(self.config.value_max_tokens if value_mode
                                else self.config.line_max_tokens),
                    stop=["\n\n"])
            except LLMError as exc:
                return self._abort(run, "llm_error", f"the {self.config.role} model failed on "
                                   f"line {site.line}: {exc}")
            run.records.append(completion.record)
            try:
                reply = reply_from_text(site, completion.text, self.limits)
            except StateReplyError as exc:
                run.rejected.append(f"line {site.line}: {exc.code}: {exc}")
                if attempt >= self.config.reply_retries or self._over_budget(run):
                    return self._abort(run, "state_reply", f"line {site.line}: {exc.code}: {exc}")
                messages = messages + [{"role": "assistant", "content": completion.text[:2000]},
                                       retry_message(str(exc), site.mode)]
                continue
            run.host_steps.append(TraceStep(
                line=site.line, text=site.text, by="lm", scope=site.scope, call=call,
                changes={k: repr(v)[:200] for k, v in reply.updates.items()},
                value=repr(reply.value)[:200] if site.mode == "value" else None))
            return reply.wire
        return self._abort(run, "state_reply", f"line {site.line}: no usable reply")

    def _over_budget(self, run: RunState) -> str | None:
        """Which budget the run has used up, if any."""
        cfg = self.config
        if len(run.host_steps) >= cfg.max_simulated_lines:
            return (f"the LM simulated {len(run.host_steps)} lines, the budget is "
                    f"{cfg.max_simulated_lines}: write more of the program in Python or raise "
                    "LMulatorConfig.max_simulated_lines")
        if run.tokens >= cfg.max_tokens:
            return (f"the run spent {run.tokens} LM tokens, the budget is {cfg.max_tokens}: "
                    "raise LMulatorConfig.max_tokens")
        elapsed = time.monotonic() - run.started
        if elapsed >= cfg.max_wall_s:
            return (f"the run took {elapsed:.0f}s, the budget is {cfg.max_wall_s:.0f}s: raise "
                    "LMulatorConfig.max_wall_s")
        return None

    @staticmethod
    def _abort(run: RunState, code: str, detail: str) -> dict:
        """Stop the run: remember why and tell the worker to unwind."""
        if run.abort is None:
            run.abort = (code, detail)
        return {"abort": detail}


def precheck(source: str) -> str | None:
    """The sandbox's AST check on the original program, so errors name the user's own lines."""
    try:
        from agents.sandbox import check_code, ForbiddenCode
    except ImportError:  # the sandbox's own check still runs on the transformed code
        return None
    try:
        check_code(source)
    except ForbiddenCode as exc:
        return f"the program was blocked by the sandbox: {exc}"
    return None


__all__ = ["LMulator", "LMulatorConfig", "RunResult", "LMulatorError"]
