"""Verifier actors behind the Verifier's own interface, for a maker running inside the Ray runtime."""
from __future__ import annotations

from typing import Any

from agents.making.verifier import Verifier
from bus.runtime import Pool
from bus.wire.messages import ErrorReply, Verdict, VerifyTool


class VerifierPool:
    """Sends VerifyTool messages to verifier replicas; the replicas start with `start()`."""

    def __init__(self, verifier_args: tuple[Any, ...], replicas: int,
                 resources: dict[str, float] | None = None) -> None:
        self.verifier_args = verifier_args  # what each Verifier replica is constructed with
        self.replicas = replicas
        self.resources = resources
        self.pool: Pool | None = None

    async def start(self) -> None:
        """Start the verifier actors."""
        if self.pool is None:
            self.pool = Pool(Verifier, self.verifier_args, replicas=self.replicas, batch_size=4,
                             max_in_flight=4, resources=self.resources)

    async def verify(self, msg: VerifyTool) -> Verdict:
        """The verdict of one replica; a replica that could not answer raises."""
        reply = await self.pool.submit(msg)
        if isinstance(reply, Verdict):
            return reply
        reason = reply.message if isinstance(reply, ErrorReply) else type(reply).__name__
        raise RuntimeError(f"verifier failed: {reason}")

    async def close(self) -> None:
        """Stop the verifier actors."""
        if self.pool is not None:
            await self.pool.close()
