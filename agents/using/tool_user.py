"""The ToolUser agent: answer a request with a stored tool version, in the sandbox."""
from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from agents.llm.accounting import spend_of
from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.llm.errors import LLMError
from agents.lmulator.runner import LMulator
from agents.lmulator.soft_tools import run_soft_tool
from agents.sandbox import Sandbox, SandboxConfig
from agents.using.answers import render_value
from agents.using.arguments import ArgumentError, extract_arguments
from agents.using.coalescer import CallCoalescer
from bus.wire.messages import ErrorInfo, ToolAnswer, UseTool
from bus.wire.tool_spec import ToolSpec
from store.tool_demos import ToolDemos
from store.tool_store import ToolStore


class ToolUser:
    """One replica of the cheap tool-using agent; many run side by side (the coordinator counts health)."""

    handlers: ClassVar[dict] = {UseTool: "use"}

    def __init__(self, store_path: str, llm_config: LLMConfig | None = None,
                 sandbox_config: SandboxConfig | None = None, timeout_s: float = 2.0,
                 demo_k: int = 3, demo_chars: int = 1500) -> None:
        self.store = ToolStore(store_path)
        # Explored demos of structured tools: the top k by similarity go into the extraction prompt,
        # cut to demo_chars, so the prompt is bounded however many demos are stored.
        self.demos = ToolDemos(store_path)
        self.demo_k = demo_k
        self.demo_chars = demo_chars
        self.llm = LLMClient(llm_config) if llm_config else None
        self.sandbox = Sandbox(sandbox_config)
        self.calls = CallCoalescer(self.sandbox, timeout_s)
        self._specs: dict[tuple[str, str], ToolSpec] = {}  # versions are immutable: cache forever
        self._started: asyncio.Task | None = None

    async def use(self, msg: UseTool) -> ToolAnswer:
        """Call the tool on the request; any failure becomes a typed error answer."""
        start = time.perf_counter()
        await self.start()
        spec = self._spec(msg)
        if spec is None:  # e.g. a replica on a node without the store file: the sender resends it
            return self._answer(msg, start, error=ErrorInfo(
                code="tool_missing", message=f"tool {msg.tool_id}@{msg.tool_version} is not in this replica's store"))
        records = []
        try:
            args = [msg.text]
            if spec.shape == "structured":
                if self.llm is None:
                    raise ArgumentError("structured tools need the user role's LLM")
                demos = self.demos.retrieve([spec.tool_id], msg.text, self.demo_k) if self.demo_k else []
                args, record = await extract_arguments(self.llm, msg.text, spec.code, spec.entry,
                                                       spec.signature, demos, self.demo_chars, spec.tool_id)
                records.append(record)
        except (ArgumentError, LLMError) as exc:
            return self._answer(msg, start, records=records,
                                error=ErrorInfo(code="argument_extraction", message=str(exc)[:500]))
        if spec.shape == "soft":
            return await self._use_soft(msg, spec, start)
        result = await self.calls.call(spec.code, spec.entry, args)
        if not result.ok:
            return self._answer(msg, start, records=records, error=ErrorInfo(
                code=f"tool_{result.error}", message=result.detail[:500]))
        return self._answer(msg, start, answer=render_value(result.value), records=records)

    async def _use_soft(self, msg: UseTool, spec: ToolSpec, start: float) -> ToolAnswer:
        """A soft tool's helper calls are simulated by the LMulator (user role's client)."""
        if self.llm is None:
            return self._answer(msg, start, error=ErrorInfo(code="soft_tool", message="soft tools need an LLM"))
        run = await run_soft_tool(LMulator(self.llm, self.sandbox), spec, msg.text)
        if not run.ok:
            return self._answer(msg, start, records=run.records,
                                error=ErrorInfo(code=f"tool_{run.error}", message=run.detail[:500]))
        return self._answer(msg, start, answer=run.answer, records=run.records)

    async def start(self) -> None:
        """Start the sandbox pool once, inside the serving event loop."""
        if self._started is None:
            self._started = asyncio.ensure_future(self.sandbox.start())
        await asyncio.shield(self._started)

    async def close(self) -> None:
        """Stop the sandbox workers and the HTTP client."""
        await self.sandbox.close()
        if self.llm is not None:
            await self.llm.aclose()

    def _spec(self, msg: UseTool) -> ToolSpec | None:
        """The tool version: from this replica's cache, the message, or the store."""
        key = (msg.tool_id, msg.tool_version)
        if key not in self._specs:
            spec = msg.tool if msg.tool and msg.tool.version == msg.tool_version else \
                self.store.get(msg.tool_id, msg.tool_version)
            if spec is None:
                return None
            self._specs[key] = spec
        return self._specs[key]

    def _answer(self, msg: UseTool, start: float, answer: str | None = None, records=(),
                error: ErrorInfo | None = None) -> ToolAnswer:
        return ToolAnswer(
            request_id=msg.request_id, trace_id=msg.trace_id, answer=answer,
            route="error" if error else "tool", tool_id=msg.tool_id, tool_version=msg.tool_version,
            confidence=msg.confidence, spend=spend_of(records),
            latency_s=time.perf_counter() - start, error=error)
