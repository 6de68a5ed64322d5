"""A pool of agent replicas: micro-batching, least-outstanding routing, backpressure, retry on a dead replica."""
from __future__ import annotations

import asyncio
import collections
from typing import Any, Sequence

import ray
from ray.exceptions import RayActorError

from bus.runtime.cluster import ensure_runtime
from bus.runtime.host import check_handlers_table, create_actor
from bus.runtime.replicas import Replica, ReplicaSet
from bus.runtime.reply_sinks import Collector, Pending
from bus.wire.codec import CodecError, from_wire, pack_wire, to_wire, unpack_batch
from bus.wire.messages import Message


class PoolClosed(RuntimeError):
    """The pool was closed; create a new Pool to send more messages."""


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
        batch_timeout_s: float | None = None,
        resources: dict[str, float] | None = None,
        num_cpus: float = 0,
        max_restarts: int = -1,
        actor_options: dict[str, Any] | None = None,
    ) -> None:
        if replicas < 1 or max_in_flight < 1 or batch_size < 1:
            raise ValueError("replicas, max_in_flight and batch_size must each be at least 1")
        check_handlers_table(agent_cls)
        ensure_runtime()
        self.agent_cls = agent_cls
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.max_queued = max_queued or replicas * max_in_flight * batch_size
        self.max_attempts = max_attempts
        self.batch_timeout_s = batch_timeout_s
        self.retries = 0
        options = dict(resources=resources, num_cpus=num_cpus, max_restarts=max_restarts, **(actor_options or {}))
        self._set = ReplicaSet(lambda: create_actor(agent_cls, tuple(args), dict(kwargs or {}), **options),
                               replicas, max_in_flight, probe_timeout_s)
        self._queue: collections.deque[Pending] = collections.deque()
        self._inflight: dict[tuple[str, str], Pending] = {}
        self._tasks: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    # ----- public API -----

    async def submit(self, msg: Message) -> Message:
        """Send one message and wait for its reply (an ErrorReply when it could not be handled)."""
        self._check_open()
        self._bind_loop()
        fut = self._loop.create_future()
        await self._wait_for_room()
        self._put(msg, fut, 0)
        return await fut

    async def submit_many(self, msgs: Sequence[Message]) -> list[Message]:
        """Send many messages (batched together) and return their replies in order."""
        self._check_open()
        self._bind_loop()
        collector = Collector(len(msgs), self._loop)
        for i, msg in enumerate(msgs):
            if len(self._queue) >= self.max_queued:
                await self._wait_for_room()
            self._put(msg, collector, i)
        return list(await collector.future)

    async def ready(self, timeout_s: float = 120.0) -> None:
        """Wait until every replica's actor is up (actors start in the background, 0.2-1 s each)."""
        await self._set.ready(timeout_s)

    @property
    def actors(self) -> list[Any]:
        """The current actor handles, one per replica."""
        return [r.actor for r in self._set.replicas]

    def stats(self) -> dict[str, Any]:
        """Routing counters: per-replica batches, messages and in-flight work, queue length, retries."""
        return {"replicas": [r.stats() for r in self._set.replicas], "queued": len(self._queue),
                "retries": self.retries}

    async def close(self, timeout_s: float = 5.0) -> None:
        """Answer anything pending with 'pool_closed', let agents clean up, and kill the actors."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._loop is not None:
            self._space.set()  # wake submitters blocked on a full queue so they see the pool closed
        self._queue.clear()
        for p in list(self._inflight.values()):
            p.fail("pool_closed", "the pool was closed before this message was answered")
        self._inflight.clear()
        await self._set.close(timeout_s)

    async def __aenter__(self) -> "Pool":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----- submission and batching -----

    async def _wait_for_room(self) -> None:
        """Backpressure: wait while the queue of unsent messages is full."""
        while len(self._queue) >= self.max_queued and not self._closed:
            self._space.clear()
            await self._space.wait()

    def _check_open(self) -> None:
        """Refuse new work on a closed pool."""
        if self._closed:
            raise PoolClosed(f"pool of {self.agent_cls.__name__} is closed; create a new Pool")

    def _put(self, msg: Message, target: asyncio.Future | Collector, index: int) -> None:
        """Queue one message for a caller, or attach the caller to the same request already in flight."""
        if self._closed:  # closed while the caller waited for room: answer, do not raise mid-stream
            closed = Pending(msg, {})
            closed.add_sink(target, index)
            closed.fail("pool_closed", "the pool was closed before this message was sent")
            return
        key = (msg.kind, msg.request_id)
        pending = self._inflight.get(key)
        if pending is None:
            pending = self._inflight[key] = Pending(msg, to_wire(msg))
            self._queue.append(pending)
            self._have_items.set()
        # Else the same request (kind and id) is in flight: it runs once and every caller gets its reply.
        pending.add_sink(target, index)

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
        self._set.bind()
        self._spawn(self._dispatch_forever())

    async def _dispatch_forever(self) -> None:
        """Form batches from the queue and send each to the least-loaded replica with a free slot."""
        while True:
            if not self._queue:
                self._have_items.clear()
                await self._have_items.wait()
                continue
            replica = await self._set.acquire()
            if len(self._queue) < self.batch_size and self.flush_s > 0:
                await asyncio.sleep(self.flush_s)  # let concurrent submitters fill the batch
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            self._space.set()
            if batch:
                self._spawn(self._run(replica, batch))
            else:
                self._set.release(replica)

    # ----- sending, replies and failure handling -----

    async def _run(self, replica: Replica, batch: list[Pending]) -> None:
        """Send one batch and deliver its replies; on a dead replica, retry the batch elsewhere."""
        actor = replica.actor
        ref = actor.handle_batch.remote(pack_wire([p.wire for p in batch]))
        try:
            out = await (asyncio.wait_for(ref, self.batch_timeout_s) if self.batch_timeout_s else ref)
        except asyncio.TimeoutError:
            # A hung handler would hang again elsewhere: answer with an error instead of retrying.
            ray.cancel(ref)
            self._set.release(replica)
            for p in batch:
                self._answer(p, None, "batch_timeout", f"no reply within {self.batch_timeout_s} s; "
                             "raise batch_timeout_s or look for a stuck handler in the agent")
            return
        except RayActorError as exc:
            self._set.release(replica)
            probe = self._set.suspect(replica, actor)
            if probe is not None:
                self._spawn(probe)
            self._retry(batch, exc)
            return
        except Exception as exc:  # the host itself failed: answer each message, keep the stream going
            self._set.release(replica)
            for p in batch:
                self._answer(p, None, "batch_failed", f"{type(exc).__name__}: {exc}")
            return
        self._set.release(replica)
        replica.batches += 1
        replica.messages += len(batch)
        self._deliver(batch, out)

    def _deliver(self, batch: list[Pending], out: bytes) -> None:
        """Match replies to requests by position and answer each request once."""
        try:
            items = unpack_batch(out)
            reason = f"replica returned {len(items)} replies for {len(batch)} requests"
        except CodecError as exc:
            items, reason = [], str(exc)
        if len(items) != len(batch):
            for p in batch:
                self._answer(p, None, "bad_reply", reason)
            return
        for p, item in zip(batch, items):
            try:
                self._answer(p, from_wire(item))
            except CodecError as exc:
                self._answer(p, None, "bad_reply", str(exc))

    def _retry(self, batch: list[Pending], exc: Exception) -> None:
        """Resend a lost batch; after the first loss, halve it so one poison message cannot sink the rest."""
        self.retries += 1
        alive: list[Pending] = []
        for p in batch:
            p.failures += 1
            if p.done:
                continue
            if len(batch) == 1 and p.failures >= self.max_attempts:
                self._answer(p, None, "replica_lost", f"replica died {p.failures} times on this message "
                             f"({type(exc).__name__}); it may crash the agent: check the agent's logs")
            else:
                alive.append(p)
        if not alive:
            return
        first_loss = all(p.failures == 1 for p in alive)
        half = len(alive) // 2
        for part in [alive] if first_loss or len(alive) == 1 else [alive[:half], alive[half:]]:
            self._spawn(self._resend(part))

    async def _resend(self, batch: list[Pending]) -> None:
        """Send a retried batch directly, ahead of the queue."""
        replica = await self._set.acquire()
        await self._run(replica, batch)

    def _answer(self, p: Pending, reply: Message | None, code: str = "", reason: str = "") -> None:
        """Answer a request exactly once (later duplicates are dropped) and forget it."""
        key = (p.msg.kind, p.msg.request_id)
        if self._inflight.get(key) is p:
            del self._inflight[key]
        if reply is None:
            p.fail(code, reason)
        else:
            p.answer(reply)

    def _spawn(self, coro: Any) -> None:
        """Run a background task the pool keeps a reference to (and cancels on close)."""
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
