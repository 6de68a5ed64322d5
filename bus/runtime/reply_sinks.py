"""Where replies go: one pending entry per request, answered exactly once, to one or many waiting callers."""
from __future__ import annotations

import asyncio
from typing import Any

from bus.wire.messages import ErrorReply, Message


class Collector:
    """Gathers the replies of one submit_many call into an ordered list behind a single future.

    One future per batch call instead of one per message: at tens of thousands of messages per
    second the per-message futures and callbacks cost more than the messages themselves.
    """

    __slots__ = ("results", "remaining", "future")

    def __init__(self, n: int, loop: asyncio.AbstractEventLoop) -> None:
        self.results: list[Any] = [None] * n
        self.remaining = n
        self.future: asyncio.Future = loop.create_future()
        if n == 0:
            self.future.set_result([])

    def put(self, index: int, reply: Message) -> None:
        """Store one reply; resolve the future when the last one arrives."""
        self.results[index] = reply
        self.remaining -= 1
        if self.remaining == 0 and not self.future.done():
            self.future.set_result(self.results)


class Pending:
    """One request in the pool, from submit to its single answer; retries reuse the same entry."""

    __slots__ = ("msg", "wire", "sinks", "failures", "done")

    def __init__(self, msg: Message, wire: dict[str, Any]) -> None:
        self.msg = msg
        self.wire = wire
        self.sinks: list[tuple[Any, int]] = []
        self.failures = 0
        self.done = False

    def add_sink(self, target: asyncio.Future | Collector, index: int = 0) -> None:
        """Another caller waiting for this request's reply (a future, or a collector slot)."""
        self.sinks.append((target, index))

    def answer(self, reply: Message) -> bool:
        """Deliver the reply to every waiting caller; False (and nothing delivered) if already answered."""
        if self.done:
            return False
        self.done = True
        for target, index in self.sinks:
            if isinstance(target, Collector):
                target.put(index, reply)
            elif not target.done():
                target.set_result(reply)
        return True

    def fail(self, code: str, reason: str) -> bool:
        """Answer with an ErrorReply that names what went wrong."""
        return self.answer(ErrorReply(request_id=self.msg.request_id, trace_id=self.msg.trace_id,
                                      code=code, message=reason))
