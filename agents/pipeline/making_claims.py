"""Claims on making a kind's tool, so runs sharing one store make each tool once."""
from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from bus.wire.tool_spec import ToolSpec
from store.making_leases import MakingLeases
from store.tool_store import ToolStore


@dataclass
class ClaimOutcome:
    """This run may make the tool (held), or another run settled the kind while this one waited."""

    held: bool
    tool: ToolSpec | None = None
    failure: str = ""


class MakingClaims:
    """A lease row per kind in the store's file; renewed while making lasts, released after.

    A run that finds the lease held by another live run waits, then takes the tool that run
    stored (or its recorded failure) instead of making the same tool again. A lease whose owner
    died (a killed run on this machine) is taken over at once, one on another machine when it
    expires.
    """

    def __init__(self, store: ToolStore, ttl_s: float = 60.0, poll_s: float = 0.5) -> None:
        self.store = store
        self.leases = MakingLeases(store.path, ttl_s)
        self.poll_s = poll_s
        self._renewals: dict[str, asyncio.Task] = {}

    async def claim(self, key: str) -> ClaimOutcome:
        """Wait until this run holds `key`'s lease, or another run has settled the kind."""
        since = time.time()
        waited = False
        while True:
            holder = self.leases.try_acquire(key)
            tool = self.store.find_by_task(key)
            failures = self.store.failures.list(key) if waited else []
            if tool is not None or (failures and failures[0].last_at >= since):
                if holder is None:
                    self.leases.release(key)
                return ClaimOutcome(False, tool, "" if tool else f"another run failed to make it: {failures[0].reason}")
            if holder is None:
                self._renewals[key] = asyncio.ensure_future(self._renew(key))
                return ClaimOutcome(True)
            waited = True
            await asyncio.sleep(self.poll_s)

    async def _renew(self, key: str) -> None:
        """Keep the lease alive while the maker works (a third of its lifetime between renewals)."""
        while True:
            await asyncio.sleep(self.leases.ttl_s / 3)
            with contextlib.suppress(Exception):  # a busy store now and then: the next renewal retries
                self.leases.renew(key)

    def release(self, key: str) -> None:
        """Stop renewing and give the lease up."""
        task = self._renewals.pop(key, None)
        if task is not None:
            task.cancel()
        self.leases.release(key)
