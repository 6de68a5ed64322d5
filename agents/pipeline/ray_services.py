"""The agents as Ray actors: pools of dispatchers, tool users, verifiers and solvers, one maker."""
from __future__ import annotations

from typing import TypeVar

from agents.exploring.background import BackgroundExploration
from agents.pipeline.config import PipelineConfig
from agents.pipeline.services import AgentRecipes
from bus.wire.messages import (
    DispatchRequest, Dispatched, ErrorReply, Explored, ExploreTool, MakeTool, Message, SolveAnswer, SolveRequest, ToolAnswer,
    ToolMade, UseTool)
from bus.runtime import AgentHandle, Pool, spawn
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
    """Every agent as actors (local Ray or a cluster), started by `start()`, exposed to the coordinator."""

    def __init__(self, agents: AgentRecipes, config: PipelineConfig) -> None:
        self.agents = agents
        self.config = config
        self.store = ToolStore(config.store_path)
        self.dispatchers: Pool | None = None
        self.users: Pool | None = None
        self.solvers: Pool | None = None
        self.maker: AgentHandle | None = None
        self.explorer: AgentHandle | None = None  # spawned for the first structured tool: most runs never need it
        self.exploration = BackgroundExploration(self.explore, config.explore)

    async def start(self) -> None:
        """Start the pools and the maker's actor (each agent's own `start()` runs inside its actor)."""
        config, agents = self.config, self.agents
        common = dict(batch_size=config.batch_size, max_in_flight=config.max_in_flight)
        self.dispatchers = Pool(*agents.dispatcher, replicas=config.dispatchers, **common)
        self.users = Pool(*agents.user, replicas=config.users,
                          resources={"tool_user": 1} if config.placement else None, **common)
        self.solvers = Pool(*agents.solver, replicas=config.solvers, batch_size=8,
                            max_in_flight=config.max_in_flight,
                            resources={"lmulator": 1} if config.placement else None)
        self.maker = spawn(agents.maker.agent, *agents.maker.args,
                           resources={"maker": 1} if config.placement else None)

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
            self.explorer = spawn(self.agents.explorer.agent, *self.agents.explorer.args)
        return expect(await self.explorer.call(msg), Explored)

    def tool_stored(self, spec: ToolSpec) -> None:
        self.exploration.tool_stored(spec)

    async def close(self) -> None:
        """Stop every actor (each agent closes its sandboxes and clients first)."""
        await self.exploration.close()
        if self.explorer is not None:
            await self.explorer.close()
        for actors in (self.dispatchers, self.users, self.solvers, self.maker):
            if actors is not None:
                await actors.close()
