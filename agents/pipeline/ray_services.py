"""The agents as Ray actors: pools of dispatchers, tool users, verifiers and solvers, one maker."""
from __future__ import annotations

from typing import TypeVar

from agents.dispatching.dispatcher import Dispatcher
from agents.exploring.background import BackgroundExploration
from agents.exploring.explorer import Explorer
from agents.llm.config import LLMConfig
from agents.making.maker import Maker
from agents.pipeline.config import PipelineConfig
from agents.solving.solver_agent import SolverAgent
from agents.using.tool_user import ToolUser
from bus.wire.messages import (
    DispatchRequest, Dispatched, ErrorReply, Explored, ExploreTool, MakeTool, Message, SolveAnswer, SolveRequest, ToolAnswer,
    ToolMade, UseTool)
from bus.runtime import Pool, spawn
from bus.wire.tool_spec import ToolSpec
from store.tool_store import ToolStore

M = TypeVar("M", bound=Message)


class ServiceError(RuntimeError):
    """An agent answered with an error instead of the expected reply."""


def expect(reply: Message, cls: type[M]) -> M:
    """Return the reply if it has the expected type; turn an ErrorReply into a typed exception."""
    if isinstance(reply, cls):
        return reply
    if isinstance(reply, ErrorReply):
        raise ServiceError(f"{reply.code}: {reply.message}")
    raise ServiceError(f"expected {cls.__name__}, got {type(reply).__name__}")


class RayServices:
    """Start every agent as actors (local Ray or a cluster) and expose them to the coordinator."""

    def __init__(self, llm_config: LLMConfig, config: PipelineConfig) -> None:
        self.config = config
        self.store = ToolStore(config.store_path)
        common = dict(batch_size=config.batch_size, max_in_flight=config.max_in_flight)
        user_res = {"tool_user": 1} if config.placement else None
        self.dispatchers = Pool(Dispatcher, (config.store_path, llm_config, config.dispatcher),
                                replicas=config.dispatchers, **common)
        self.users = Pool(ToolUser, (config.store_path, llm_config, None, config.tool_timeout_s),
                          replicas=config.users, resources=user_res, **common)
        self.solvers = Pool(SolverAgent, (llm_config,), replicas=config.solvers, batch_size=8,
                            max_in_flight=config.max_in_flight,
                            resources={"lmulator": 1} if config.placement else None)
        self.maker = spawn(Maker, llm_config, config.maker, config.verifiers, config.tool_timeout_s,
                           {"verifier": 1} if config.placement else None,
                           resources={"maker": 1} if config.placement else None)
        self._llm_config = llm_config
        self.explorer = None  # started on the first structured tool: most runs never need it
        self.exploration = BackgroundExploration(self.explore, config.explore)

    async def dispatch(self, msg: DispatchRequest) -> Dispatched:
        return expect(await self.dispatchers.submit(msg), Dispatched)

    async def use(self, msg: UseTool) -> ToolAnswer:
        return expect(await self.users.submit(msg), ToolAnswer)

    async def make(self, msg: MakeTool) -> ToolMade:
        return expect(await self.maker.call(msg), ToolMade)

    async def solve(self, msg: SolveRequest) -> SolveAnswer:
        return expect(await self.solvers.submit(msg), SolveAnswer)

    async def explore(self, msg: ExploreTool) -> Explored:
        if self.explorer is None:
            self.explorer = spawn(Explorer, self.config.store_path, self._llm_config, None,
                                  self.config.tool_timeout_s)
        return expect(await self.explorer.call(msg), Explored)

    def tool_stored(self, spec: ToolSpec) -> None:
        self.exploration.tool_stored(spec)

    async def close(self) -> None:
        """Stop every actor; tool users flush their health counters on the way out."""
        await self.exploration.close()
        if self.explorer is not None:
            await self.explorer.close()
        for pool in (self.dispatchers, self.users, self.solvers):
            await pool.close()
        await self.maker.close()
