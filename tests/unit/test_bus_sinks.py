"""Reply delivery is exactly once per request, to every caller waiting on it; Ray env defaults."""
from __future__ import annotations

import asyncio

import pytest

from bus.runtime.env import is_remote_address
from bus.runtime.reply_sinks import Collector, Pending
from bus.wire.messages import Echo, ErrorReply


def test_pending_answers_once_to_every_sink_and_drops_duplicates():
    async def main():
        loop = asyncio.get_running_loop()
        msg = Echo(payload="x")
        p = Pending(msg, {})
        single = loop.create_future()
        collector = Collector(2, loop)
        p.add_sink(single)
        p.add_sink(collector, 1)
        collector.put(0, Echo(payload="other"))
        assert p.answer(Echo(payload="first")) is True
        assert p.answer(Echo(payload="second")) is False  # a duplicate reply is dropped
        assert p.fail("late", "ignored") is False
        return await single, await collector.future

    single, collected = asyncio.run(main())
    assert single.payload == "first"
    assert [r.payload for r in collected] == ["other", "first"]


def test_cancelled_caller_does_not_break_delivery():
    async def main():
        loop = asyncio.get_running_loop()
        p = Pending(Echo(), {})
        gone, alive = loop.create_future(), loop.create_future()
        p.add_sink(gone)
        p.add_sink(alive)
        gone.cancel()
        p.fail("replica_lost", "why")
        return await alive

    reply = asyncio.run(main())
    assert isinstance(reply, ErrorReply) and reply.code == "replica_lost" and reply.message == "why"


def test_empty_collector_is_ready():
    async def main():
        return await Collector(0, asyncio.get_running_loop()).future

    assert asyncio.run(main()) == []


@pytest.mark.parametrize(
    ("address", "remote"),
    [(None, False), ("", False), ("local", False), ("127.0.0.1:6379", False), ("localhost:1", False),
     ("ray://127.0.0.1:10001", False), ("10.0.0.5:6379", True), ("auto", True), ("ray://head:10001", True)],
)
def test_loopback_only_is_never_forced_on_a_real_cluster(address, remote):
    assert is_remote_address(address) is remote
