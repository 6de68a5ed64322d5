"""A verify function backed by verifier actors, for a maker running inside the Ray runtime."""
from __future__ import annotations

from agents.llm.config import LLMConfig
from agents.making.verifier import Verifier
from bus.runtime import Pool
from bus.wire.messages import ErrorReply, Verdict, VerifyTool


class VerifierPool:
    """Sends VerifyTool messages to verifier replicas and returns their verdicts."""

    def __init__(self, replicas: int, llm_config: LLMConfig | None, timeout_s: float,
                 resources: dict[str, float] | None = None) -> None:
        self.pool = Pool(Verifier, (None, llm_config, timeout_s), replicas=replicas, batch_size=4,
                         max_in_flight=4, resources=resources)

    async def __call__(self, msg: VerifyTool) -> Verdict:
        reply = await self.pool.submit(msg)
        if isinstance(reply, Verdict):
            return reply
        reason = reply.message if isinstance(reply, ErrorReply) else type(reply).__name__
        raise RuntimeError(f"verifier failed: {reason}")

    async def close(self) -> None:
        await self.pool.close()
