"""The solver actor: answers SolveRequest (direct / cot / coc) over the bus."""
from __future__ import annotations

from typing import ClassVar

from agents.llm.client import LLMClient
from agents.lmulator.runner import LMulatorConfig
from agents.sandbox import Sandbox
from agents.sandbox.sandboxed_agent import SandboxedAgent
from agents.solving.solver import Solver
from bus.wire.messages import ErrorInfo, SolveAnswer, SolveRequest


class SolverAgent(SandboxedAgent):
    """Plain class hosted by the runtime's spawn/Pool; the sandbox runs Chain-of-Code programs."""

    handlers: ClassVar[dict[type, str]] = {SolveRequest: "solve"}

    def __init__(self, llm: LLMClient, sandbox: Sandbox, lmulator_config: LMulatorConfig | None = None,
                 role: str = "solver") -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.solver = Solver(llm, sandbox, role=role, lmulator_config=lmulator_config or LMulatorConfig())

    async def solve(self, msg: SolveRequest) -> SolveAnswer:
        """Answer a question with the requested method; failures are an answer with `error`."""
        result = await self.solver.solve(msg.question, msg.method)
        error = None if result.answer is not None else ErrorInfo(
            code=result.error or "no_answer", message=result.detail or "no answer was found")
        return SolveAnswer(
            request_id=msg.request_id, trace_id=msg.trace_id, answer=result.answer,
            method=result.method, program=result.program, spend=result.spend, error=error)
