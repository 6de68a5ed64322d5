"""A pool of agent replicas: micro-batching, least-outstanding routing, backpressure, retry on a dead replica."""
from __future__ import annotations

import asyncio
import collections
import dataclasses
from typing import Any, Sequence

import bus.runtime_env  # noqa: F401  (sets Ray's environment before ray is imported)
import ray
from ray.exceptions import ActorDiedError, RayActorError

from bus.codec import CodecError, from_wire, pack_wire, to_wire, unpack_batch
from bus.messages import ErrorReply, Message
from bus.runtime_host import check_handlers_table, create_actor


class PoolClosed(RuntimeError):
    """The pool was closed; create a new Pool to send more messages."""


@dataclasses.dataclass(eq=False)
class _Pending:
    """One submitted message waiting for its reply."""

    msg: Message
    wire: dict[str, Any]
    future: asyncio.Future
    failures: int = 0


@dataclasses.dataclass(eq=False)
class _Replica:
    """One actor of the pool and the work routed to it."""

    index: int
    actor: Any
    outstanding: int = 0
    healthy: bool = True
    batches: int = 0
    messages: int = 0
    replaced: int = 0


class Pool:
    """N replicas of one agent class behind an async submit API that answers every request exactly once."""

    def __init__(
        self,
        agent_cls: type,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        replicas: int = 1,
        max_in_flight: int = 2,
        batch_size: int = 64,
        flush_s: float = 0.0005,
        max_queued: int | None = None,
        max_attempts: int = 4,
        probe_timeout_s: float = 120.0,
        resources: dict[str, float] | None = None,
        num_cpus: float = 0,
        max_restarts: int = -1,
        actor_options: dict[str, Any] | None = None,
    ) -> None:
        if replicas < 1 or max_in_flight < 1 or batch_size < 1:
            raise ValueError("replicas, max_in_flight and batch_size must each be at least 1")
        check_handlers_table(agent_cls)
        from bus.runtime import ensure_runtime  # late import: runtime imports this module

        ensure_runtime()
        self.agent_cls = agent_cls
        self.max_in_flight = max_in_flight
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.max_queued = max_queued or replicas * max_in_flight * batch_size
        self.max_attempts = max_attempts
        self.probe_timeout_s = probe_timeout_s
        self.retries = 0
        self._spec = dict(
            agent_cls=agent_cls, args=tuple(args), kwargs=dict(kwargs or {}), resources=resources,
            num_cpus=num_cpus, max_restarts=max_restarts, **(actor_options or {}),
        )
        self._replicas = [_Replica(i, self._new_actor()) for i in range(replicas)]
        self._queue: collections.deque[_Pending] = collections.deque()
        self._inflight: dict[tuple[str, str], asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._next = 0

    # ----- public API -----

    async def submit(self, msg: Message) -> Message:
        """Send one message and wait for its reply (an ErrorReply when it could not be handled)."""
        return await self._enqueue(msg)

    async def submit_many(self, msgs: Sequence[Message]) -> list[Message]:
        """Send many messages (batched together) and return their replies in order."""
        futures = [await self._enqueue_nowait(m) for m in msgs]
        return list(await asyncio.gather(*futures))

    async def ready(self, timeout_s: float = 120.0) -> None:
        """Wait until every replica's actor is up (actors start in the background, 0.2-1 s each)."""
        await asyncio.wait_for(asyncio.gather(*(r.actor.ping.remote() for r in self._replicas)), timeout_s)

    @property
    def actors(self) -> list[Any]:
        """The current actor handles, one per replica."""
        return [r.actor for r in self._replicas]

    def stats(self) -> dict[str, Any]:
        """Routing counters: per-replica batches, messages and in-flight work, and retries."""
        return {
            "replicas": [
                {"index": r.index, "healthy": r.healthy, "outstanding": r.outstanding, "batches": r.batches,
                 "messages": r.messages, "replaced": r.replaced}
                for r in self._replicas
            ],
            "queued": len(self._queue),
            "retries": self.retries,
        }

    async def close(self, timeout_s: float = 5.0) -> None:
        """Answer anything pending with 'pool_closed', let agents clean up, and kill the actors."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        while self._queue:
            self._resolve(self._queue.popleft(), None, "pool_closed", "the pool was closed before this message was sent")
        for (_, rid), fut in list(self._inflight.items()):
            if not fut.done():
                fut.set_result(ErrorReply(request_id=rid, code="pool_closed",
                                          message="the pool was closed while this message was in flight"))
        self._inflight.clear()
        closes = [r.actor.close.remote() for r in self._replicas]
        try:
            await asyncio.wait_for(asyncio.gather(*closes, return_exceptions=True), timeout_s)
        except asyncio.TimeoutError:
            pass
        for r in self._replicas:
            ray.kill(r.actor, no_restart=True)

    async def __aenter__(self) -> "Pool":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----- submission and batching -----

    async def _enqueue(self, msg: Message) -> Message:
        """Queue one message, waiting while the queue is full (backpressure)."""
        return await (await self._enqueue_nowait(msg))

    async def _enqueue_nowait(self, msg: Message) -> asyncio.Future:
        """Queue one message once there is room; return the future of its reply."""
        if self._closed:
            raise PoolClosed(f"pool of {self.agent_cls.__name__} is closed; create a new Pool")
        self._bind_loop()
        key = (msg.kind, msg.request_id)
        existing = self._inflight.get(key)
        if existing is not None:
            # The same request (kind and id) while the first is in flight: it runs once, both get its reply.
            return existing
        while len(self._queue) >= self.max_queued:
            self._space.clear()
            await self._space.wait()
        fut = self._loop.create_future()
        self._inflight[key] = fut
        self._queue.append(_Pending(msg, to_wire(msg), fut))
        self._have_items.set()
        return fut

    def _bind_loop(self) -> None:
        """Create the loop-bound state on first use, inside the caller's event loop."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if self._loop is not None and not self._loop.is_closed():
            raise RuntimeError("a Pool is bound to the event loop that first used it; create one Pool per loop")
        self._loop = loop
        self._have_items = asyncio.Event()
        self._space = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._spawn(self._dispatch_forever())

    async def _dispatch_forever(self) -> None:
        """Form batches from the queue and send each to the least-loaded replica with a free slot."""
        while True:
            if not self._queue:
                self._have_items.clear()
                await self._have_items.wait()
                continue
            replica = await self._acquire()
            if len(self._queue) < self.batch_size and self.flush_s > 0:
                await asyncio.sleep(self.flush_s)  # let concurrent submitters fill the batch
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            self._space.set()
            if not batch:
                self._release(replica)
                continue
            self._spawn(self._run(replica, batch))

    async def _acquire(self) -> _Replica:
        """Reserve an in-flight slot on the healthy replica with the least outstanding batches."""
        while True:
            free = [r for r in self._replicas if r.healthy and r.outstanding < self.max_in_flight]
            if free:
                n = len(self._replicas)
                # Ties rotate, so even a trickle of requests spreads over the replicas.
                best = min(free, key=lambda r: (r.outstanding, (r.index - self._next) % n))
                self._next = (best.index + 1) % n
                best.outstanding += 1
                return best
            self._slot_free.clear()
            await self._slot_free.wait()

    def _release(self, replica: _Replica) -> None:
        """Give back an in-flight slot."""
        replica.outstanding -= 1
        self._slot_free.set()

    # ----- sending, replies and failure handling -----

    async def _run(self, replica: _Replica, batch: list[_Pending]) -> None:
        """Send one batch and deliver its replies; on a dead replica, retry the batch elsewhere."""
        actor = replica.actor
        try:
            out = await actor.handle_batch.remote(pack_wire([p.wire for p in batch]))
        except RayActorError as exc:
            self._release(replica)
            self._suspect(replica, actor)
            self._retry(batch, exc)
            return
        except Exception as exc:  # the host itself failed: answer each message, keep the stream going
            self._release(replica)
            for p in batch:
                self._resolve(p, None, "batch_failed", f"{type(exc).__name__}: {exc}")
            return
        self._release(replica)
        replica.batches += 1
        replica.messages += len(batch)
        self._deliver(batch, out)

    def _deliver(self, batch: list[_Pending], out: bytes) -> None:
        """Match replies to requests by position and resolve each caller's future once."""
        try:
            items = unpack_batch(out)
        except CodecError as exc:
            items = []
            reason = str(exc)
        else:
            reason = f"replica returned {len(items)} replies for {len(batch)} requests"
        if len(items) != len(batch):
            for p in batch:
                self._resolve(p, None, "bad_reply", reason)
            return
        for p, item in zip(batch, items):
            try:
                self._resolve(p, from_wire(item))
            except CodecError as exc:
                self._resolve(p, None, "bad_reply", str(exc))

    def _retry(self, batch: list[_Pending], exc: Exception) -> None:
        """Resend a lost batch; after the first loss, halve it so one poison message cannot sink the rest."""
        self.retries += 1
        alive: list[_Pending] = []
        for p in batch:
            p.failures += 1
            if p.future.done():
                continue
            if len(batch) == 1 and p.failures >= self.max_attempts:
                self._resolve(p, None, "replica_lost", f"replica died {p.failures} times on this message "
                              f"({type(exc).__name__}); it may crash the agent: check the agent's logs")
            else:
                alive.append(p)
        if not alive:
            return
        first_loss = all(p.failures == 1 for p in alive)
        parts = [alive] if first_loss or len(alive) == 1 else [alive[: len(alive) // 2], alive[len(alive) // 2:]]
        for part in parts:
            self._spawn(self._resend(part))

    async def _resend(self, batch: list[_Pending]) -> None:
        """Send a retried batch directly, ahead of the queue."""
        replica = await self._acquire()
        await self._run(replica, batch)

    def _suspect(self, replica: _Replica, actor: Any) -> None:
        """Stop routing to a replica that failed a call, and probe it until it is back or replaced."""
        if replica.healthy and replica.actor is actor:
            replica.healthy = False
            self._spawn(self._probe(replica, actor))

    async def _probe(self, replica: _Replica, actor: Any) -> None:
        """Wait for a restarted actor to answer; replace it when Ray says it is gone for good."""
        deadline = self._loop.time() + self.probe_timeout_s
        while True:
            try:
                await asyncio.wait_for(actor.ping.remote(), max(0.1, deadline - self._loop.time()))
                break
            except ActorDiedError:
                replica.actor = self._new_actor()
                replica.replaced += 1
                break
            except (RayActorError, asyncio.TimeoutError):
                if self._loop.time() >= deadline:
                    ray.kill(actor, no_restart=True)
                    replica.actor = self._new_actor()
                    replica.replaced += 1
                    break
                await asyncio.sleep(0.2)
        replica.healthy = True
        self._slot_free.set()

    def _resolve(self, p: _Pending, reply: Message | None, code: str = "", reason: str = "") -> None:
        """Answer a caller exactly once; later duplicates are dropped."""
        if self._inflight.get((p.msg.kind, p.msg.request_id)) is p.future:
            del self._inflight[(p.msg.kind, p.msg.request_id)]
        if p.future.done():
            return
        if reply is None:
            reply = ErrorReply(request_id=p.msg.request_id, trace_id=p.msg.trace_id, code=code, message=reason)
        p.future.set_result(reply)

    def _new_actor(self) -> Any:
        """Start one more host actor with the pool's agent, placement and restart policy."""
        spec = dict(self._spec)
        return create_actor(spec.pop("agent_cls"), spec.pop("args"), spec.pop("kwargs"), **spec)

    def _spawn(self, coro: Any) -> None:
        """Run a background task the pool keeps a reference to (and cancels on close)."""
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
