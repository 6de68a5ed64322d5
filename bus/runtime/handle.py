"""A single agent actor (e.g. the maker) behind a handle, and `spawn`, which starts one."""
from __future__ import annotations

from typing import Any

from bus.runtime.pool import Pool
from bus.wire.messages import Message


class AgentHandle:
    """A single agent actor (e.g. the maker) called one message at a time; survives actor restarts."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def call(self, msg: Message) -> Message:
        """Send one message and wait for its reply (an ErrorReply when it could not be handled)."""
        return await self._pool.submit(msg)

    @property
    def actor(self) -> Any:
        """The current Ray actor handle (changes if the actor had to be replaced)."""
        return self._pool.actors[0]

    async def info(self) -> dict[str, Any]:
        """Where the agent runs and what it has served."""
        return await self.actor.info.remote()

    async def close(self) -> None:
        """Let the agent clean up, then kill its actor."""
        await self._pool.close()

    async def __aenter__(self) -> "AgentHandle":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def spawn(
    agent_cls: type,
    *args: Any,
    resources: dict[str, float] | None = None,
    num_cpus: float = 0,
    max_restarts: int = -1,
    max_concurrency: int = 64,
    actor_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> AgentHandle:
    """Run one agent as a restartable actor; `args`/`kwargs` go to the agent's constructor."""
    pool = Pool(
        agent_cls, args, kwargs, replicas=1, max_in_flight=max_concurrency, batch_size=1, flush_s=0.0,
        resources=resources, num_cpus=num_cpus, max_restarts=max_restarts, actor_options=actor_options,
    )
    return AgentHandle(pool)
