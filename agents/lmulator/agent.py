"""The LMulator actor: answers SolveRequest (direct/cot/coc) and SimulateLine over the bus."""
from __future__ import annotations

import ast
import asyncio
from typing import Any, ClassVar

from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.llm.errors import LLMError
from agents.lmulator.errors import StateReplyError
from agents.lmulator.prompts import line_messages
from agents.lmulator.replies import reply_from_text
from agents.lmulator.runner import LMulatorConfig
from agents.lmulator.state import ReplyLimits
from agents.lmulator.transform import Site
from agents.solver import Solver
from bus.messages import (
    ErrorInfo, SimulateLine, SolveAnswer, SolveRequest, StateChange,
)


class LMulatorAgent:
    """Plain class hosted by the runtime's spawn/Pool; sandbox and client start on first use."""

    handlers: ClassVar[dict[type, str]] = {SolveRequest: "solve", SimulateLine: "simulate_line"}

    def __init__(self, llm_config: LLMConfig | None = None, sandbox_config: Any = None,
                 lmulator_config: LMulatorConfig | None = None, role: str = "solver") -> None:
        self.llm_config = llm_config
        self.sandbox_config = sandbox_config
        self.lmulator_config = lmulator_config or LMulatorConfig()
        self.role = role
        self._llm: LLMClient | None = None
        self._sandbox: Any = None
        self._solver: Solver | None = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> Solver:
        """Create the LLM client, the sandbox pool and the solver inside the serving event loop."""
        async with self._lock:
            if self._solver is None:
                from agents.sandbox import Sandbox  # the sandbox pool is only needed when serving
                self._llm = LLMClient(self.llm_config)
                self._sandbox = Sandbox(self.sandbox_config)
                await self._sandbox.start()
                self._solver = Solver(self._llm, self._sandbox, role=self.role,
                                      lmulator_config=self.lmulator_config)
            return self._solver

    async def close(self) -> None:
        """Stop the sandbox workers and the HTTP clients."""
        if self._sandbox is not None:
            await self._sandbox.close()
        if self._llm is not None:
            await self._llm.aclose()

    async def solve(self, msg: SolveRequest) -> SolveAnswer:
        """Answer a question with the requested method; failures are an answer with `error`."""
        solver = await self._ensure()
        result = await solver.solve(msg.question, msg.method)
        error = None if result.answer is not None else ErrorInfo(
            code=result.error or "no_answer", message=result.detail or "no answer was found")
        return SolveAnswer(
            request_id=msg.request_id, trace_id=msg.trace_id, answer=result.answer,
            method=result.method, program=result.program, spend=result.spend, error=error)

    async def simulate_line(self, msg: SimulateLine) -> StateChange:
        """Ask the LM how one failing line changes the given state."""
        await self._ensure()
        assert self._llm is not None
        site = Site(id=0, line=msg.line_no, text=msg.line, mode="state", kind="line",
                    scope="<module>", assignable=tuple(dict.fromkeys(
                        bound_names(msg.line) + list(msg.state))))
        shown = {k: repr(v)[:300] for k, v in msg.state.items()}
        messages = line_messages(msg.program, site, shown, msg.error)
        try:
            completion = await self._llm.chat(self.lmulator_config.role, messages,
                                              max_tokens=self.lmulator_config.line_max_tokens)
            reply = reply_from_text(site, completion.text,
                                    ReplyLimits(max_chars=self.lmulator_config.max_reply_chars))
        except (LLMError, StateReplyError) as exc:
            code = getattr(exc, "code", "llm_error")
            return StateChange(request_id=msg.request_id, trace_id=msg.trace_id,
                               error=ErrorInfo(code=code, message=str(exc)))
        return StateChange(request_id=msg.request_id, trace_id=msg.trace_id,
                           updates={k: json_safe(v) for k, v in reply.updates.items()})


def bound_names(line: str) -> list[str]:
    """Names a single line of Python assigns (empty when it does not parse on its own)."""
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return []
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Store)]


def json_safe(value: Any) -> Any:
    """Literals as JSON/msgpack data: tuples and sets become lists, keys become strings."""
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [json_safe(v) for v in sorted(value, key=repr)]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return value
