"""The agent endpoints the coordinator talks to, behind one small interface, and how agents are described."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from bus.wire.messages import (
    DispatchRequest, Dispatched, MakeTool, SolveAnswer, SolveRequest, ToolAnswer, ToolMade, UseTool)
from bus.wire.tool_spec import ToolSpec
from store.tool_store import ToolStore


class Recipe(NamedTuple):
    """An agent class and the dependencies its constructor receives, built here or inside an actor.

    The dependencies start nothing until the agent's `start()`, and pickle as their configuration,
    so the same recipe serves an in-process agent and every replica of a pool.
    """

    agent: type
    args: tuple[Any, ...]

    def build(self) -> Any:
        """The agent, in this process."""
        return self.agent(*self.args)


@dataclass(frozen=True)
class AgentRecipes:
    """One recipe per role of the main job, made by the bootstrap."""

    dispatcher: Recipe
    user: Recipe
    maker: Recipe
    solver: Recipe
    explorer: Recipe


class Services(Protocol):
    """What the coordinator needs: the four agent roles and the store it writes tools to."""

    store: ToolStore

    async def dispatch(self, msg: DispatchRequest) -> Dispatched: ...

    async def use(self, msg: UseTool) -> ToolAnswer: ...

    async def make(self, msg: MakeTool) -> ToolMade: ...

    async def solve(self, msg: SolveRequest) -> SolveAnswer: ...

    def tool_stored(self, spec: ToolSpec) -> None:
        """A new tool is in the store (e.g. explore it in the background); must return at once."""
