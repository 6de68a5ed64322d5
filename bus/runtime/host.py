"""The generic Ray actor that hosts one plain agent and serves batches of encoded messages."""
from __future__ import annotations

import asyncio
import inspect
import os
from typing import Any, Awaitable, Callable

import ray

from bus.runtime.eager_start import start_eagerly
from bus.wire.codec import CodecError, pack_wire, from_wire, raw_ids, to_wire, unpack_batch
from bus.wire.messages import ErrorReply, Message

Handler = Callable[[Message], "Awaitable[Message] | Message"]


class AgentHost:
    """Instantiates an agent inside the actor and dispatches each message to its typed handler."""

    def __init__(self, agent_cls: type, args: tuple, kwargs: dict) -> None:
        self.agent = agent_cls(*args, **kwargs)
        self.agent_name = agent_cls.__name__
        self.routes = resolve_handlers(agent_cls, self.agent)
        self._started = False
        self._start_lock = asyncio.Lock()
        # Counters that let tests and operators check the in-flight bound from the inside.
        self.active_batches = 0
        self.max_active_batches = 0
        self.batches = 0
        self.messages = 0

    async def handle_batch(self, payload: bytes) -> bytes:
        """Decode a batch, run each message through its handler concurrently, encode the replies."""
        await self._ensure_started()
        items = unpack_batch(payload)
        self.active_batches += 1
        self.max_active_batches = max(self.max_active_batches, self.active_batches)
        try:
            replies = await self._handle_all(items)
        finally:
            self.active_batches -= 1
        self.batches += 1
        self.messages += len(items)
        try:
            return pack_wire(replies)
        except CodecError:
            # Rare: some reply holds a value msgpack cannot carry; find it and replace only that one.
            return pack_wire([self._packable(w) for w in replies])

    async def _handle_all(self, items: list[Any]) -> list[dict[str, Any]]:
        """Handle every item concurrently; only handlers that really wait get a task."""
        replies: list[Any] = [None] * len(items)
        waiting: list[tuple[int, asyncio.Task]] = []
        for i, item in enumerate(items):
            value, task = start_eagerly(self._handle_one(item))
            if task is None:
                replies[i] = value
            else:
                waiting.append((i, task))
        if waiting:
            for (i, _), value in zip(waiting, await asyncio.gather(*(t for _, t in waiting))):
                replies[i] = value
        return replies

    async def ping(self) -> str:
        """Liveness probe; answers once the actor is (re)started."""
        return "pong"

    async def info(self) -> dict[str, Any]:
        """Where the agent runs and what it has served."""
        ctx = ray.get_runtime_context()
        return {
            "agent": self.agent_name,
            "node_id": ctx.get_node_id(),
            "pid": os.getpid(),
            "batches": self.batches,
            "messages": self.messages,
            "active_batches": self.active_batches,
            "max_active_batches": self.max_active_batches,
        }

    async def close(self) -> None:
        """Let the agent release its resources (sandboxes, clients) before the actor is killed."""
        closer = getattr(self.agent, "close", None) or getattr(self.agent, "aclose", None)
        if closer is not None:
            result = closer()
            if inspect.isawaitable(result):
                await result

    async def _ensure_started(self) -> None:
        """Run the agent's optional async `start()` once, before its first message."""
        if self._started:
            return
        async with self._start_lock:
            if not self._started:
                starter = getattr(self.agent, "start", None)
                if starter is not None:
                    result = starter()
                    if inspect.isawaitable(result):
                        await result
                self._started = True

    async def _handle_one(self, item: Any) -> dict[str, Any]:
        """One wire item in, one wire reply out; every failure becomes an ErrorReply."""
        try:
            msg = from_wire(item)
        except CodecError as exc:
            rid, tid = raw_ids(item)
            return to_wire(ErrorReply(request_id=rid, trace_id=tid, code="bad_message", message=str(exc)))
        handler = self.routes.get(msg.kind)
        if handler is None:
            return _error_wire(msg, "no_handler", f"{self.agent_name} has no handler for {msg.kind!r}; "
                              f"add the message class to {self.agent_name}.handlers")
        try:
            reply = handler(msg)
            if inspect.isawaitable(reply):
                reply = await reply
        except Exception as exc:  # one bad message never fails its batch
            return _error_wire(msg, "handler_error", f"{self.agent_name}.{getattr(handler, '__name__', '?')} "
                              f"raised {type(exc).__name__}: {exc}")
        if not isinstance(reply, Message):
            return _error_wire(msg, "bad_reply", f"{self.agent_name} handler returned {type(reply).__name__}; "
                              "handlers must return one bus Message")
        try:
            wire = to_wire(reply)
        except Exception as exc:
            return _error_wire(msg, "bad_reply", f"reply not serialisable: {exc}")
        # Replies always answer their request: the host stamps the ids so handlers need not copy them.
        wire["request_id"] = msg.request_id
        wire["trace_id"] = msg.trace_id
        return wire

    def _packable(self, wire: dict[str, Any]) -> dict[str, Any]:
        """The wire dict if msgpack can carry it, else an ErrorReply in its place."""
        try:
            pack_wire(wire, wire.get("kind"))
            return wire
        except CodecError as exc:
            return to_wire(ErrorReply(request_id=wire["request_id"], trace_id=wire["trace_id"],
                                      code="bad_reply", message=f"reply not encodable: {exc.reason}"))


def resolve_handlers(agent_cls: type, agent: Any) -> dict[str, Handler]:
    """Map each message kind to the agent's bound handler method, failing early on typos."""
    check_handlers_table(agent_cls)
    return {msg_cls.model_fields["kind"].default: getattr(agent, name) for msg_cls, name in agent_cls.handlers.items()}


def _error_wire(msg: Message, code: str, message: str) -> dict[str, Any]:
    """An ErrorReply answering `msg`, as a wire dict."""
    return to_wire(ErrorReply(request_id=msg.request_id, trace_id=msg.trace_id, code=code, message=message))


_REMOTE_HOST = ray.remote(AgentHost)


def create_actor(
    agent_cls: type,
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    resources: dict[str, float] | None = None,
    num_cpus: float = 0,
    max_restarts: int = -1,
    max_task_retries: int = 0,
    max_concurrency: int = 1000,
    **options: Any,
) -> ray.actor.ActorHandle:
    """The one factory that turns a plain agent class into a Ray actor with placement and restart policy."""
    check_handlers_table(agent_cls)
    return _REMOTE_HOST.options(
        num_cpus=num_cpus,
        resources=dict(resources or {}),
        max_restarts=max_restarts,
        max_task_retries=max_task_retries,
        max_concurrency=max_concurrency,
        **options,
    ).remote(agent_cls, tuple(args), dict(kwargs or {}))


def check_handlers_table(agent_cls: type) -> None:
    """Fail in the caller (not inside a remote actor) when the handlers table is malformed."""
    table = getattr(agent_cls, "handlers", None)
    if not isinstance(table, dict) or not table:
        raise TypeError(f"{agent_cls.__name__} needs a class attribute handlers = {{MessageClass: 'method_name'}}")
    for msg_cls, method_name in table.items():
        if not (isinstance(msg_cls, type) and issubclass(msg_cls, Message)):
            raise TypeError(f"{agent_cls.__name__}.handlers key {msg_cls!r} is not a bus Message class")
        if not callable(getattr(agent_cls, method_name, None)):
            raise TypeError(f"{agent_cls.__name__}.handlers names {method_name!r}, which is not a method of the class")
