"""Pools and handles on a real local Ray: routing, backpressure, dedup, and replicas dying mid-batch."""
from __future__ import annotations

import asyncio
import collections
import os
import pathlib
from typing import ClassVar

import pytest

from bus.runtime import Pool, PoolClosed, spawn
from bus.wire.messages import Echo, ErrorReply, Message, SolveRequest
from tests.support.echo_agent import EchoAgent

pytestmark = pytest.mark.usefixtures("ray_session")


class SlowEcho:
    """Echo that takes a while, counts what it handled, and can die on cue."""

    handlers: ClassVar[dict[type[Message], str]] = {Echo: "echo"}

    def __init__(self, delay_s: float = 0.0, marker_dir: str | None = None) -> None:
        self.delay_s = delay_s
        self.marker_dir = marker_dir
        self.seen: collections.Counter[str] = collections.Counter()

    async def echo(self, msg: Echo) -> Echo:
        self.seen[msg.request_id] += 1
        if msg.payload.startswith("die-once") and self.marker_dir:
            marker = pathlib.Path(self.marker_dir) / msg.payload
            if not marker.exists():
                marker.touch()
                os._exit(1)  # the worker process vanishes mid-batch, as in a segfault or OOM kill
        if msg.payload == "die-always":
            os._exit(1)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return Echo(payload=f"{msg.payload}#{self.seen[msg.request_id]}")


def assert_answered_once(msgs: list[Echo], replies: list[Message]) -> None:
    """Every request got exactly one reply, in order, each answering its own request."""
    assert len(replies) == len(msgs)
    assert [r.request_id for r in replies] == [m.request_id for m in msgs]
    assert len({r.request_id for r in replies}) == len(msgs)


async def test_spawn_calls_one_actor_and_survives_bad_messages():
    handle = spawn(EchoAgent)
    try:
        reply = await handle.call(Echo(payload="hi", trace_id="t-1"))
        assert isinstance(reply, Echo) and reply.payload == "hi" and reply.trace_id == "t-1"
        wrong = await handle.call(SolveRequest(question="q"))
        assert isinstance(wrong, ErrorReply) and wrong.code == "no_handler"
        assert (await handle.call(Echo(payload="again"))).payload == "again"
    finally:
        await handle.close()
    with pytest.raises(PoolClosed):
        await handle.call(Echo())


async def test_routing_spreads_load_over_replicas():
    async with Pool(SlowEcho, (0.02,), replicas=4, max_in_flight=1, batch_size=4) as pool:
        await pool.ready()
        msgs = [Echo(payload=str(i)) for i in range(64)]
        replies = await asyncio.gather(*(pool.submit(m) for m in msgs))
        assert_answered_once(msgs, replies)
        assert [r.payload for r in replies] == [f"{i}#1" for i in range(64)]
        per_replica = [r["messages"] for r in pool.stats()["replicas"]]
        assert sum(per_replica) == 64
        # With one batch in flight per replica, the first four batches must go to four different replicas.
        assert min(per_replica) >= 4, per_replica


async def test_backpressure_holds_the_in_flight_bound():
    pool = Pool(SlowEcho, (0.05,), replicas=2, max_in_flight=2, batch_size=3, max_queued=6)
    try:
        msgs = [Echo(payload=str(i)) for i in range(60)]
        queued = []

        async def watch() -> None:
            while True:
                queued.append(pool.stats()["queued"])
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        replies = await pool.submit_many(msgs)
        watcher.cancel()
        assert_answered_once(msgs, replies)
        infos = await asyncio.gather(*(a.info.remote() for a in pool.actors))
        # Seen from inside each actor: never more than max_in_flight batches at once, and the bound was reached.
        assert max(i["max_active_batches"] for i in infos) == 2
        assert max(queued) <= 6
        assert sum(i["messages"] for i in infos) == 60
    finally:
        await pool.close()


async def test_same_request_id_in_flight_runs_once():
    async with Pool(SlowEcho, (0.05,), replicas=1, batch_size=8) as pool:
        msg = Echo(payload="x", request_id="dup-1")
        first, second = await asyncio.gather(pool.submit(msg), pool.submit(msg))
        assert first == second and first.payload == "x#1"
        other = Echo(payload="y")
        replies = await pool.submit_many([other, other, Echo(payload="z")])
        assert [r.payload for r in replies] == ["y#1", "y#1", "z#1"]


def test_start_runtime_is_idempotent(ray_session):
    from bus.runtime import start_runtime

    address = ray_session.get_runtime_context().gcs_address
    assert start_runtime() == address
    assert start_runtime(num_cpus=1) == address  # already running: nothing restarts


@pytest.mark.parametrize("restart", [False, True], ids=["killed-for-good", "killed-and-restarted"])
async def test_ray_kill_mid_batch_answers_everything_once(ray_session, restart):
    async with Pool(SlowEcho, (0.3,), replicas=2, max_in_flight=2, batch_size=5) as pool:
        await pool.ready()
        victim = pool.actors[0]
        msgs = [Echo(payload=str(i)) for i in range(40)]
        pending = asyncio.gather(*(pool.submit(m) for m in msgs))
        await asyncio.sleep(0.15)  # both replicas now hold batches in flight
        ray_session.kill(victim, no_restart=not restart)
        replies = await pending
        assert_answered_once(msgs, replies)
        assert all(isinstance(r, Echo) for r in replies), [r for r in replies if not isinstance(r, Echo)][:3]
        assert pool.stats()["retries"] >= 1
        replaced = pool.stats()["replicas"][0]["replaced"]
        assert replaced == (0 if restart else 1)


async def test_os_exit_inside_handler_loses_nothing(tmp_path):
    async with Pool(SlowEcho, (0.0, str(tmp_path)), replicas=2, max_in_flight=2, batch_size=8) as pool:
        msgs = [Echo(payload=str(i)) for i in range(30)]
        msgs[13] = Echo(payload="die-once-a")
        msgs[27] = Echo(payload="die-once-b")
        replies = await pool.submit_many(msgs)
        assert_answered_once(msgs, replies)
        assert all(isinstance(r, Echo) for r in replies)
        assert replies[13].payload.startswith("die-once-a#")
        assert (tmp_path / "die-once-a").exists() and (tmp_path / "die-once-b").exists()
        assert pool.stats()["retries"] >= 2


async def test_poison_message_is_isolated_and_answered_with_an_error():
    pool = Pool(SlowEcho, replicas=2, max_in_flight=1, batch_size=4, max_attempts=3)
    try:
        msgs = [Echo(payload=str(i)) for i in range(8)]
        msgs[2] = Echo(payload="die-always")
        replies = await pool.submit_many(msgs)
        assert_answered_once(msgs, replies)
        assert isinstance(replies[2], ErrorReply) and replies[2].code == "replica_lost"
        others = [r for i, r in enumerate(replies) if i != 2]
        assert all(isinstance(r, Echo) for r in others), others
    finally:
        await pool.close()


async def test_hung_batch_times_out_with_error_replies():
    async with Pool(SlowEcho, (30.0,), replicas=1, batch_size=4, batch_timeout_s=0.5) as pool:
        replies = await pool.submit_many([Echo(payload=str(i)) for i in range(3)])
        assert [r.code for r in replies] == ["batch_timeout"] * 3


async def test_close_answers_queued_messages():
    pool = Pool(SlowEcho, (0.5,), replicas=1, max_in_flight=1, batch_size=1)
    waiting = [asyncio.ensure_future(pool.submit(Echo(payload=str(i)))) for i in range(4)]
    await asyncio.sleep(0.2)
    await pool.close()
    replies = await asyncio.gather(*waiting)
    assert {r.code for r in replies if isinstance(r, ErrorReply)} == {"pool_closed"}
    assert all(r.request_id for r in replies)
