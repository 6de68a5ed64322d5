"""The solver actor: answers SolveRequest (direct / cot / coc) over the bus."""
from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.lmulator.runner import LMulatorConfig
from agents.solving.solver import Solver
from bus.wire.messages import ErrorInfo, SolveAnswer, SolveRequest


class SolverAgent:
    """Plain class hosted by the runtime's spawn/Pool; sandbox and client start on first use."""

    handlers: ClassVar[dict[type, str]] = {SolveRequest: "solve"}

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

    async def start(self) -> Solver:
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
        solver = await self.start()
        result = await solver.solve(msg.question, msg.method)
        error = None if result.answer is not None else ErrorInfo(
            code=result.error or "no_answer", message=result.detail or "no answer was found")
        return SolveAnswer(
            request_id=msg.request_id, trace_id=msg.trace_id, answer=result.answer,
            method=result.method, program=result.program, spend=result.spend, error=error)
