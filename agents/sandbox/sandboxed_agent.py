"""The life cycle every agent with a sandbox of its own shares: start the workers, then close them and the client."""
from __future__ import annotations

from typing import Any

from agents.sandbox.pool import Sandbox


class SandboxedAgent:
    """Base of agents that run code in their own sandbox and may call an LLM (`llm` has `aclose`)."""

    sandbox: Sandbox
    llm: Any

    async def start(self) -> None:
        """Start the sandbox workers."""
        await self.sandbox.start()

    async def close(self) -> None:
        """Stop the sandbox workers and the HTTP client."""
        await self.sandbox.close()
        if self.llm is not None:
            await self.llm.aclose()
