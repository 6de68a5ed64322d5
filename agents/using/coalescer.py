"""Coalesce concurrent calls of one tool version into a single batched sandbox round trip."""
from __future__ import annotations

import asyncio
from typing import Any

from agents.sandbox import CallResult, Sandbox


class CallCoalescer:
    """Calls made in the same event-loop tick for the same code share one `call_many`."""

    def __init__(self, sandbox: Sandbox, timeout_s: float, max_batch: int = 256) -> None:
        self.sandbox = sandbox
        self.timeout_s = timeout_s
        self.max_batch = max_batch
        self._pending: dict[tuple[str, str], list[tuple[list, asyncio.Future]]] = {}

    async def call(self, code: str, entry: str, args: list[Any]) -> CallResult:
        """Queue one call; it runs with whatever else arrives before the next tick."""
        key = (code, entry)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        batch = self._pending.setdefault(key, [])
        batch.append((args, future))
        if len(batch) == 1:
            asyncio.get_running_loop().call_soon(self._flush, key)
        elif len(batch) >= self.max_batch:
            self._flush(key)
        return await future

    def _flush(self, key: tuple[str, str]) -> None:
        """Send the queued calls of one tool as a batch."""
        batch = self._pending.pop(key, [])
        if batch:
            asyncio.ensure_future(self._run(key, batch))

    async def _run(self, key: tuple[str, str], batch: list[tuple[list, asyncio.Future]]) -> None:
        code, entry = key
        try:
            results = await self.sandbox.call_many(code, entry, [a for a, _ in batch],
                                                   timeout_s=self.timeout_s)
        except Exception as exc:  # the pool itself failed: every waiter gets the error
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), res in zip(batch, results):
            if not fut.done():
                fut.set_result(res)
