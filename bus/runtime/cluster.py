"""Start or attach to Ray with one code path: a local multi-process runtime or a cluster."""
from __future__ import annotations

import os
from typing import Any

import ray

from bus.runtime.env import LOOPBACK_ONLY, apply_ray_env, is_remote_address


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
