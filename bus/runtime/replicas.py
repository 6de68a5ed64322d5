"""The replicas of a pool: least-outstanding slot reservation, health probes, and replacing dead actors."""
from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Callable, Coroutine

import ray
from ray.exceptions import ActorDiedError, RayActorError


@dataclasses.dataclass(eq=False)
class Replica:
    """One actor of the pool and the work routed to it."""

    index: int
    actor: Any
    outstanding: int = 0
    healthy: bool = True
    batches: int = 0
    messages: int = 0
    replaced: int = 0

    def stats(self) -> dict[str, Any]:
        """Counters for tests and operators."""
        return {"index": self.index, "healthy": self.healthy, "outstanding": self.outstanding,
                "batches": self.batches, "messages": self.messages, "replaced": self.replaced}


class ReplicaSet:
    """Routes each batch to the healthy replica with the fewest batches in flight, up to a bound each."""

    def __init__(self, new_actor: Callable[[], Any], count: int, max_in_flight: int, probe_timeout_s: float) -> None:
        self.new_actor = new_actor
        self.max_in_flight = max_in_flight
        self.probe_timeout_s = probe_timeout_s
        self.replicas = [Replica(i, new_actor()) for i in range(count)]
        self._next = 0
        self._slot_free: asyncio.Event | None = None

    def bind(self) -> None:
        """Create loop-bound state inside the running event loop."""
        self._slot_free = asyncio.Event()

    async def acquire(self) -> Replica:
        """Reserve an in-flight slot; waits while every healthy replica is at its bound (backpressure)."""
        while True:
            free = [r for r in self.replicas if r.healthy and r.outstanding < self.max_in_flight]
            if free:
                n = len(self.replicas)
                # Ties rotate, so even a trickle of requests spreads over the replicas.
                best = min(free, key=lambda r: (r.outstanding, (r.index - self._next) % n))
                self._next = (best.index + 1) % n
                best.outstanding += 1
                return best
            self._slot_free.clear()
            await self._slot_free.wait()

    def release(self, replica: Replica) -> None:
        """Give back an in-flight slot."""
        replica.outstanding -= 1
        self._slot_free.set()

    def suspect(self, replica: Replica, actor: Any) -> Coroutine[Any, Any, None] | None:
        """Stop routing to a replica whose actor failed a call; returns the probe to run, if one is new."""
        if replica.healthy and replica.actor is actor:
            replica.healthy = False
            return self._probe(replica, actor)
        return None

    async def _probe(self, replica: Replica, actor: Any) -> None:
        """Wait for a restarted actor to answer; replace it when Ray says it is gone for good."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.probe_timeout_s
        while True:
            try:
                await asyncio.wait_for(actor.ping.remote(), max(0.1, deadline - loop.time()))
                break
            except ActorDiedError:
                self._replace(replica)
                break
            except (RayActorError, asyncio.TimeoutError):
                if loop.time() >= deadline:
                    ray.kill(actor, no_restart=True)
                    self._replace(replica)
                    break
                await asyncio.sleep(0.2)  # restarting (or its node is being declared dead): ask again
        replica.healthy = True
        self._slot_free.set()

    def _replace(self, replica: Replica) -> None:
        """A fresh actor in the dead one's place (same agent, placement and restart policy)."""
        replica.actor = self.new_actor()
        replica.replaced += 1

    async def ready(self, timeout_s: float) -> None:
        """Wait until every replica's actor answers (a restarting actor is asked again)."""
        await asyncio.wait_for(asyncio.gather(*(_ping_until_up(r.actor) for r in self.replicas)), timeout_s)

    async def close(self, timeout_s: float) -> None:
        """Let each agent clean up, then kill every actor for good."""
        closes = [r.actor.close.remote() for r in self.replicas]
        try:
            await asyncio.wait_for(asyncio.gather(*closes, return_exceptions=True), timeout_s)
        except asyncio.TimeoutError:
            pass
        for r in self.replicas:
            ray.kill(r.actor, no_restart=True)


async def _ping_until_up(actor: Any) -> None:
    """Ping an actor, waiting out a restart (ActorUnavailableError) instead of failing on it."""
    while True:
        try:
            await actor.ping.remote()
            return
        except ray.exceptions.ActorUnavailableError:
            await asyncio.sleep(0.2)
