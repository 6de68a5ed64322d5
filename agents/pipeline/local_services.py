"""The agents as plain objects in this process: the same flow without Ray, for tests and tools."""
from __future__ import annotations

from agents.exploring.background import BackgroundExploration
from agents.pipeline.config import PipelineConfig
from agents.pipeline.services import AgentRecipes
from bus.wire.messages import (
    DispatchRequest, Dispatched, MakeTool, SolveAnswer, SolveRequest, ToolAnswer, ToolMade, UseTool)
from bus.wire.tool_spec import ToolSpec
from store.tool_store import ToolStore


class LocalServices:
    """One instance of each agent, called directly; verification runs in this process's sandbox."""

    def __init__(self, agents: AgentRecipes, config: PipelineConfig) -> None:
        self.store = ToolStore(config.store_path)
        self.dispatcher = agents.dispatcher.build()
        self.user = agents.user.build()
        self.maker = agents.maker.build()
        self.solver = agents.solver.build()
        self.explorer = agents.explorer.build()
        self.exploration = BackgroundExploration(self.explorer.explore, config.explore)

    def _agents(self) -> tuple:
        return (self.user, self.dispatcher, self.maker, self.solver, self.explorer)

    async def start(self) -> None:
        """Start every agent that has something to start (sandboxes, verifiers)."""
        for agent in self._agents():
            starter = getattr(agent, "start", None)
            if starter is not None:
                await starter()

    async def dispatch(self, msg: DispatchRequest) -> Dispatched:
        return await self.dispatcher.dispatch(msg)

    async def use(self, msg: UseTool) -> ToolAnswer:
        return await self.user.use(msg)

    async def make(self, msg: MakeTool) -> ToolMade:
        return await self.maker.make(msg)

    async def solve(self, msg: SolveRequest) -> SolveAnswer:
        return await self.solver.solve(msg)

    def tool_stored(self, spec: ToolSpec) -> None:
        self.exploration.tool_stored(spec)

    async def close(self) -> None:
        await self.exploration.close()
        for agent in self._agents():
            await agent.close()
