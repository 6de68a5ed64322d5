"""The smallest agent: replies to Echo with the same payload; used by tests and the bus benchmark."""
from __future__ import annotations

from typing import ClassVar

from bus.messages import Echo, Message


class EchoAgent:
    """Answers every Echo with an Echo carrying the same payload."""

    handlers: ClassVar[dict[type[Message], str]] = {Echo: "echo"}

    async def echo(self, msg: Echo) -> Echo:
        """Return the payload unchanged."""
        return Echo(payload=msg.payload)
