"""The agents as plain objects in this process: the same flow without Ray, for tests and tools."""
from __future__ import annotations

from agents.dispatching.dispatcher import Dispatcher
from agents.exploring.background import BackgroundExploration
from agents.exploring.explorer import Explorer
from agents.llm.config import LLMConfig
from agents.making.maker import Maker
from agents.pipeline.config import PipelineConfig
from agents.solving.solver_agent import SolverAgent
from agents.using.tool_user import ToolUser
from bus.wire.messages import (
    DispatchRequest, Dispatched, MakeTool, SolveAnswer, SolveRequest, ToolAnswer, ToolMade, UseTool)
from bus.wire.tool_spec import ToolSpec
from store.tool_store import ToolStore


class LocalServices:
    """One instance of each agent, called directly; verification runs in this process's sandbox."""

    def __init__(self, llm_config: LLMConfig, config: PipelineConfig) -> None:
        self.store = ToolStore(config.store_path)
        self.dispatcher = Dispatcher(config.store_path, llm_config, config.dispatcher)
        self.user = ToolUser(config.store_path, llm_config, None, config.tool_timeout_s)
        self.maker = Maker(llm_config, config.maker, verifier_replicas=0, tool_timeout_s=config.tool_timeout_s)
        self.solver = SolverAgent(llm_config)
        self.explorer = Explorer(config.store_path, llm_config, None, config.tool_timeout_s)
        self.exploration = BackgroundExploration(self.explorer.explore, config.explore)

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
        for agent in (self.user, self.dispatcher, self.maker, self.solver, self.explorer):
            await agent.close()
