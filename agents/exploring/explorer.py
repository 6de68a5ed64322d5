"""The Explorer agent: budgeted episodes of simulated trial and error on one tool or API."""
from __future__ import annotations

from typing import ClassVar, NamedTuple

from agents.exploring.backends import HttpApi, SandboxTool, ToolBackend
from agents.exploring.episode import Episode, ExploreBudget
from agents.exploring.simulator import SimulatedApi
from agents.llm.accounting import spend_of
from agents.llm.client import LLMClient
from agents.sandbox import Sandbox
from agents.sandbox.sandboxed_agent import SandboxedAgent
from agents.using.arguments import spec_api
from bus.wire.api_spec import ApiSpec
from bus.wire.messages import ErrorInfo, Explored, ExploreTool
from store.api_cache import ApiCache
from store.explorer_memory import ExplorerMemory
from store.tool_demos import ToolDemos
from store.tool_store import ToolStore


class ExplorerStores(NamedTuple):
    """What the explorer reads and writes: tools, long-term memory, demos, simulated API answers."""

    tools: ToolStore
    memory: ExplorerMemory
    demos: ToolDemos
    cache: ApiCache

    @classmethod
    def at(cls, path: str) -> ExplorerStores:
        """All four in one SQLite file (the tool store's)."""
        return cls(ToolStore(path), ExplorerMemory(path), ToolDemos(path), ApiCache(path))


class Explorer(SandboxedAgent):
    """Practises on tools (role `explorer`); trials go to long-term memory, good ones become demos."""

    handlers: ClassVar[dict] = {ExploreTool: "explore"}

    def __init__(self, stores: ExplorerStores, llm: LLMClient, sandbox: Sandbox, timeout_s: float = 2.0,
                 simulate_http: bool = False) -> None:
        self.store, self.memory, self.demos, self.cache = stores
        self.llm = llm
        self.sandbox = sandbox  # runs stored structured tools; started by start()
        self.timeout_s = timeout_s
        self.simulate_http = simulate_http  # offline runs simulate even APIs that name an endpoint

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
            return spec_api(spec), SandboxTool(spec, spec_api(spec), self.sandbox, self.timeout_s), None
        if msg.api is None:
            raise ValueError("nothing to explore: give tool_id or api")
        if msg.api.endpoint and not self.simulate_http:
            return msg.api, HttpApi(msg.api), None
        simulator = SimulatedApi(msg.api, self.llm, self.cache)
        return msg.api, simulator, simulator

