"""The smallest agent: replies to Echo with the same payload; used by tests and the bus benchmark."""
from __future__ import annotations

import sys
from typing import ClassVar

import ray.cloudpickle

from bus.wire.messages import Echo, Message

# tests/ is not installed, so Ray workers could not import this module: send it by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


class EchoAgent:
    """Answers every Echo with an Echo carrying the same payload."""

    handlers: ClassVar[dict[type[Message], str]] = {Echo: "echo"}

    async def echo(self, msg: Echo) -> Echo:
        """Return the payload unchanged."""
        return Echo(payload=msg.payload)
