"""Environment Ray must see before it starts a node on these machines; imported before ray."""
from __future__ import annotations

import os

# Single-machine defaults: every node on loopback, no auth tokens, no usage reporting.
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
}
LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def is_remote_address(address: str | None) -> bool:
    """True for a cluster address off this machine ('auto' counts: on a cluster it is the VPC address)."""
    if not address or address == "local":
        return False
    host = address.split("://")[-1].rsplit(":", 1)[0]
    return host not in ("127.0.0.1", "localhost", "::1", "[::1]")


def apply_ray_env(address: str | None = None) -> None:
    """Set the variables unless the user chose values; never force loopback when joining a real cluster."""
    remote = is_remote_address(address or os.environ.get("RAY_ADDRESS"))
    for name, value in RAY_ENV.items():
        if name == LOOPBACK_ONLY and remote:
            continue
        os.environ.setdefault(name, value)


apply_ray_env()
