"""The Explorer agent: budgeted episodes of simulated trial and error on one tool or API."""
from __future__ import annotations

import asyncio
from typing import ClassVar

from agents.exploring.backends import HttpApi, SandboxTool, ToolBackend
from agents.exploring.episode import Episode, ExploreBudget
from agents.exploring.simulator import SimulatedApi
from agents.llm.accounting import spend_of
from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.sandbox import Sandbox, SandboxConfig
from agents.using.arguments import spec_api
from bus.wire.api_spec import ApiSpec
from bus.wire.messages import ErrorInfo, Explored, ExploreTool
from store.api_cache import ApiCache
from store.explorer_memory import ExplorerMemory
from store.tool_demos import ToolDemos
from store.tool_store import ToolStore


class Explorer:
    """Practises on tools (role `explorer`); trials go to long-term memory, good ones become demos."""

    handlers: ClassVar[dict] = {ExploreTool: "explore"}

    def __init__(self, store_path: str, llm_config: LLMConfig | None = None,
                 sandbox_config: SandboxConfig | None = None, timeout_s: float = 2.0,
                 simulate_http: bool = False) -> None:
        self.store = ToolStore(store_path)
        self.memory = ExplorerMemory(store_path)
        self.demos = ToolDemos(store_path)
        self.cache = ApiCache(store_path)
        self.llm = LLMClient(llm_config)
        self.sandbox_config = sandbox_config
        self.timeout_s = timeout_s
        self.simulate_http = simulate_http  # offline runs simulate even APIs that name an endpoint
        self._sandbox: Sandbox | None = None
        self._sandbox_lock = asyncio.Lock()

    async def explore(self, msg: ExploreTool) -> Explored:
        """Run the message's budget on its tool; a missing tool is a typed error, not an exception."""
        target = msg.tool_id or (msg.api.name if msg.api else "")
        try:
            api, backend, simulator = await self._backend(msg)
        except (LookupError, ValueError) as exc:
            return Explored(request_id=msg.request_id, trace_id=msg.trace_id, tool=target,
                            error=ErrorInfo(code="explore_target", message=str(exc)[:500]))
        budget = ExploreBudget(episodes=msg.episodes, trials=msg.trials, corrections=msg.corrections)
        totals = dict(trials=0, successes=0, demos_kept=0, step_errors=0)
        records = []
        for _ in range(budget.episodes):
            result = await Episode(self.llm, api, backend, self.memory, self.demos, budget).run()
            totals["trials"] += len(result.trials)
            totals["successes"] += result.successes
            totals["demos_kept"] += result.demos_kept
            totals["step_errors"] += len(result.step_errors)
            records += result.records
        if simulator is not None:
            records += simulator.records
        return Explored(request_id=msg.request_id, trace_id=msg.trace_id, tool=api.name,
                        episodes=budget.episodes, spend=spend_of(records), **totals)

    async def _backend(self, msg: ExploreTool) -> tuple[ApiSpec, ToolBackend, SimulatedApi | None]:
        """A stored structured tool runs in the sandbox; an API over HTTP when it has an endpoint, else simulated."""
        if msg.tool_id:
            spec = self.store.get(msg.tool_id)
            if spec is None:
                raise LookupError(f"no active tool {msg.tool_id!r} in {self.store.path}: see `latm tools list`")
            if spec.shape != "structured":
                raise ValueError(f"tool {msg.tool_id!r} is {spec.shape}: only structured tools take arguments "
                                 "worth exploring")
            return spec_api(spec), SandboxTool(spec, spec_api(spec), await self._sandbox_started(), self.timeout_s), None
        if msg.api is None:
            raise ValueError("nothing to explore: give tool_id or api")
        if msg.api.endpoint and not self.simulate_http:
            return msg.api, HttpApi(msg.api), None
        simulator = SimulatedApi(msg.api, self.llm, self.cache)
        return msg.api, simulator, simulator

    async def _sandbox_started(self) -> Sandbox:
        """One sandbox pool per explorer, started on first use inside the serving loop."""
        async with self._sandbox_lock:
            if self._sandbox is None:
                sandbox = Sandbox(self.sandbox_config)
                await sandbox.start()
                self._sandbox = sandbox
        return self._sandbox

    async def close(self) -> None:
        """Stop the sandbox workers and the HTTP clients."""
        if self._sandbox is not None:
            await self._sandbox.close()
        await self.llm.aclose()
