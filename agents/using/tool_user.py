"""The ToolUser agent: answer a request with the tool version sent with it, in the sandbox."""
from __future__ import annotations

import time
from typing import ClassVar

from agents.llm.accounting import spend_of
from agents.llm.client import LLMClient
from agents.llm.errors import LLMError
from agents.lmulator.runner import LMulator
from agents.lmulator.soft_tools import run_soft_tool
from agents.sandbox import Sandbox
from agents.sandbox.sandboxed_agent import SandboxedAgent
from agents.using.answers import render_value
from agents.using.arguments import ArgumentError, extract_arguments
from agents.using.coalescer import CallCoalescer
from bus.wire.messages import ErrorInfo, ToolAnswer, UseTool
from bus.wire.tool_spec import ToolCode
from store.tool_demos import ToolDemos


class ToolUser(SandboxedAgent):
    """One replica of the cheap tool-using agent; many run side by side (the coordinator counts health)."""

    handlers: ClassVar[dict] = {UseTool: "use"}

    def __init__(self, sandbox: Sandbox, llm: LLMClient | None = None, demos: ToolDemos | None = None,
                 timeout_s: float = 2.0, demo_k: int = 3, demo_chars: int = 1500) -> None:
        self.sandbox = sandbox
        self.llm = llm
        # Explored demos of structured tools: the top k by similarity go into the extraction prompt,
        # cut to demo_chars, so the prompt is bounded however many demos are stored.
        self.demos = demos
        self.demo_k = demo_k
        self.demo_chars = demo_chars
        self.calls = CallCoalescer(sandbox, timeout_s)

    async def use(self, msg: UseTool) -> ToolAnswer:
        """Call the tool on the request; any failure becomes a typed error answer."""
        start, tool = time.perf_counter(), msg.tool
        records = []
        try:
            args = [msg.text]
            if tool.shape == "structured":
                if self.llm is None:
                    raise ArgumentError("structured tools need the user role's LLM")
                demos = self.demos.retrieve([tool.tool_id], msg.text, self.demo_k) \
                    if self.demos is not None and self.demo_k else []
                args, record = await extract_arguments(self.llm, msg.text, tool.code, tool.entry,
                                                       tool.signature, demos, self.demo_chars, tool.tool_id)
                records.append(record)
        except (ArgumentError, LLMError) as exc:
            return self._answer(msg, start, records=records,
                                error=ErrorInfo(code="argument_extraction", message=str(exc)[:500]))
        if tool.shape == "soft":
            return await self._use_soft(msg, tool, start)
        result = await self.calls.call(tool.code, tool.entry, args)
        if not result.ok:
            return self._answer(msg, start, records=records, error=ErrorInfo(
                code=f"tool_{result.error}", message=result.detail[:500]))
        return self._answer(msg, start, answer=render_value(result.value), records=records)

    async def _use_soft(self, msg: UseTool, tool: ToolCode, start: float) -> ToolAnswer:
        """A soft tool's helper calls are simulated by the LMulator (user role's client)."""
        if self.llm is None:
            return self._answer(msg, start, error=ErrorInfo(code="soft_tool", message="soft tools need an LLM"))
        run = await run_soft_tool(LMulator(self.llm, self.sandbox), tool, msg.text)
        if not run.ok:
            return self._answer(msg, start, records=run.records,
                                error=ErrorInfo(code=f"tool_{run.error}", message=run.detail[:500]))
        return self._answer(msg, start, answer=run.answer, records=run.records)

    def _answer(self, msg: UseTool, start: float, answer: str | None = None, records=(),
                error: ErrorInfo | None = None) -> ToolAnswer:
        return ToolAnswer(
            request_id=msg.request_id, trace_id=msg.trace_id, answer=answer,
            route="error" if error else "tool", tool_id=msg.tool.tool_id, tool_version=msg.tool.version,
            confidence=msg.confidence, spend=spend_of(records),
            latency_s=time.perf_counter() - start, error=error)
