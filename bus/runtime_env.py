"""Environment Ray must see before it starts a node on these machines; imported before ray."""
from __future__ import annotations

import os

# Keep every node on loopback, no auth tokens, no usage reporting.
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def apply_ray_env() -> None:
    """Set the variables unless the user already chose values."""
    for name, value in RAY_ENV.items():
        os.environ.setdefault(name, value)


apply_ray_env()
