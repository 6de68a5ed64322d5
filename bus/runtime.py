"""Start or attach to Ray with one code path, and turn plain agent classes into actors, pools and handles."""
from __future__ import annotations

import os
from typing import Any

from bus.runtime_env import LOOPBACK_ONLY, apply_ray_env, is_remote_address  # isort: skip  (before ray)

import ray

from bus.messages import Message
from bus.runtime_pool import Pool, PoolClosed

__all__ = ["AgentHandle", "Pool", "PoolClosed", "ensure_runtime", "spawn", "start_runtime", "stop_runtime"]


def start_runtime(
    address: str | None = None,
    *,
    num_cpus: int | None = None,
    resources: dict[str, float] | None = None,
    namespace: str = "latm",
    **init_kwargs: Any,
) -> str:
    """Start a local multi-process Ray, or attach to a cluster (address or RAY_ADDRESS); idempotent.

    Returns the GCS address of the cluster the driver is connected to.
    """
    apply_ray_env(address)
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        if is_remote_address(address) and os.environ.get(LOOPBACK_ONLY) == "0":
            raise RuntimeError(
                f"cannot join the cluster at {address!r} while {LOOPBACK_ONLY}=0 keeps Ray on loopback: "
                f"unset it (or export RAY_ADDRESS={address} before starting Python)"
            )
        init_kwargs.setdefault("include_dashboard", False)
        init_kwargs.setdefault("log_to_driver", True)
        if address:
            # A cluster already declares its CPUs and custom resources (cluster.yaml); do not override.
            init_kwargs.pop("include_dashboard", None)
            ray.init(address=address, namespace=namespace, **init_kwargs)
        else:
            ray.init(num_cpus=num_cpus, resources=resources, namespace=namespace, **init_kwargs)
    return ray.get_runtime_context().gcs_address


def ensure_runtime() -> None:
    """Start a default local runtime when nothing has started one yet."""
    if not ray.is_initialized():
        start_runtime()


def stop_runtime() -> None:
    """Disconnect from (and, when local, shut down) Ray; safe to call twice."""
    if ray.is_initialized():
        ray.shutdown()


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
