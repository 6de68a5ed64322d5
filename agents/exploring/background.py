"""Exploration of newly stored structured tools in the background, so requests never wait for it."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from agents.exploring.episode import ExploreBudget
from bus.wire.messages import Explored, ExploreTool
from bus.wire.tool_spec import ToolSpec

log = logging.getLogger(__name__)


class BackgroundExploration:
    """Starts one budgeted exploration per stored structured tool; close() cancels what is still running."""

    def __init__(self, send: Callable[[ExploreTool], Awaitable[Explored]], budget: ExploreBudget) -> None:
        self.send = send
        self.budget = budget
        self.results: list[Explored] = []
        self._tasks: set[asyncio.Task] = set()

    def tool_stored(self, spec: ToolSpec) -> None:
        """Explore the tool if it takes arguments and the budget allows; returns at once."""
        if spec.shape != "structured" or self.budget.episodes == 0:
            return
        msg = ExploreTool(tool_id=spec.tool_id, episodes=self.budget.episodes, trials=self.budget.trials,
                          corrections=self.budget.corrections)
        task = asyncio.ensure_future(self._run(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, msg: ExploreTool) -> None:
        try:
            self.results.append(await self.send(msg))
        except Exception as exc:  # noqa: BLE001 - exploration is an extra; its failure never reaches requests
            log.warning("exploring %s failed: %s: %s", msg.tool_id, type(exc).__name__, exc)

    async def wait(self) -> None:
        """Wait for the explorations started so far (tests, or a run that wants its demos now)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel explorations still running; their finished trials are already in the store."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
