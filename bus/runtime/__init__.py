"""The Ray runtime: the only package that imports ray. Agents stay plain classes; `create_actor`
(host.py) is the one place `ray.remote` is applied, and `spawn` / `Pool` are how agents become actors."""
from __future__ import annotations

# The environment Ray must see is set before any module of the package imports ray.
from bus.runtime.env import apply_ray_env  # isort: skip
from bus.runtime.cluster import ensure_runtime, start_runtime, stop_runtime
from bus.runtime.handle import AgentHandle, spawn
from bus.runtime.pool import Pool, PoolClosed

__all__ = ["AgentHandle", "Pool", "PoolClosed", "apply_ray_env", "ensure_runtime", "spawn", "start_runtime",
           "stop_runtime"]
