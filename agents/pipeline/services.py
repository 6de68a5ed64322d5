"""The agent endpoints the coordinator talks to, behind one small interface."""
from __future__ import annotations

from typing import Protocol

from bus.wire.messages import (
    DispatchRequest, Dispatched, MakeTool, SolveAnswer, SolveRequest, ToolAnswer, ToolMade, UseTool)
from bus.wire.tool_spec import ToolSpec
from store.tool_store import ToolStore


class Services(Protocol):
    """What the coordinator needs: the four agent roles and the store it writes tools to."""

    store: ToolStore

    async def dispatch(self, msg: DispatchRequest) -> Dispatched: ...

    async def use(self, msg: UseTool) -> ToolAnswer: ...

    async def make(self, msg: MakeTool) -> ToolMade: ...

    async def solve(self, msg: SolveRequest) -> SolveAnswer: ...

    def tool_stored(self, spec: ToolSpec) -> None:
        """A new tool is in the store (e.g. explore it in the background); must return at once."""
