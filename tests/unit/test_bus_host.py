"""The agent host without a Ray cluster: dispatch by type, per-message errors, concurrency, eager start."""
from __future__ import annotations

import asyncio
from typing import ClassVar

import msgpack
import pytest

from bus.runtime.eager_start import start_eagerly
from bus.runtime.host import AgentHost, check_handlers_table
from bus.wire.codec import decode_many, encode_many, pack_wire, to_wire
from bus.wire.messages import Echo, ErrorReply, Message, SolveRequest, ToolRequest


class ScriptedAgent:
    """Echo agent whose payload scripts misbehaviour: raise, return junk, or wait for a peer."""

    handlers: ClassVar[dict[type[Message], str]] = {Echo: "echo", ToolRequest: "junk"}

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.started = 0
        self.gate = asyncio.Event()

    async def start(self) -> None:
        self.started += 1

    async def echo(self, msg: Echo) -> Echo:
        if msg.payload == "raise":
            raise ValueError("scripted failure")
        if msg.payload == "wait":
            await asyncio.wait_for(self.gate.wait(), 5)  # only another message of the batch can open it
        if msg.payload == "open":
            await asyncio.sleep(0)
            self.gate.set()
        return Echo(payload=self.prefix + msg.payload)  # new ids on purpose: the host must stamp them

    async def junk(self, msg: ToolRequest) -> str:
        return "not a message"


def run_batch(host: AgentHost, items: list) -> list[Message]:
    """Send raw wire items through the host and decode its replies."""
    return decode_many(asyncio.run(host.handle_batch(pack_wire(items))))


def test_replies_in_order_with_request_ids_and_errors_isolated():
    host = AgentHost(ScriptedAgent, ("p:",), {})
    msgs = [Echo(payload="a", trace_id="t"), Echo(payload="raise"), SolveRequest(question="q"),
            ToolRequest(text="x"), Echo(payload="b")]
    items = [to_wire(m) for m in msgs]
    items.insert(2, {"kind": "echo/1", "request_id": "bad-1", "trace_id": "", "payload": 7})
    replies = run_batch(host, items)
    assert len(replies) == 6
    assert replies[0] == Echo(payload="p:a", request_id=msgs[0].request_id, trace_id="t")
    assert isinstance(replies[1], ErrorReply) and replies[1].code == "handler_error"
    assert "scripted failure" in replies[1].message and replies[1].request_id == msgs[1].request_id
    assert isinstance(replies[2], ErrorReply) and replies[2].code == "bad_message"
    assert replies[2].request_id == "bad-1" and "payload" in replies[2].message
    assert replies[3].code == "no_handler" and "ScriptedAgent.handlers" in replies[3].message
    assert replies[4].code == "bad_reply" and replies[4].request_id == msgs[3].request_id
    assert replies[5] == Echo(payload="p:b", request_id=msgs[4].request_id)
    assert host.agent.started == 1


def test_handlers_of_one_batch_run_concurrently():
    host = AgentHost(ScriptedAgent, (), {})
    # Sequential handling would time out in "wait"; only concurrency lets "open" release it.
    replies = run_batch(host, [to_wire(Echo(payload="wait")), to_wire(Echo(payload="open"))])
    assert [r.payload for r in replies] == ["wait", "open"]


def test_garbage_batch_is_a_codec_error():
    host = AgentHost(ScriptedAgent, (), {})
    with pytest.raises(Exception) as exc:
        asyncio.run(host.handle_batch(b"\xc1garbage"))
    assert "msgpack" in str(exc.value)


def test_unencodable_reply_becomes_error_reply():
    class Big:
        handlers: ClassVar[dict[type[Message], str]] = {SolveRequest: "solve"}

        async def solve(self, msg: SolveRequest) -> Message:
            from bus.wire.messages import StateChange
            return StateChange(updates={"n": 2**80})

    host = AgentHost(Big, (), {})
    msgs = [SolveRequest(question="q"), SolveRequest(question="r")]
    replies = decode_many(asyncio.run(host.handle_batch(encode_many(msgs))))
    assert [r.code for r in replies] == ["bad_reply", "bad_reply"]
    assert [r.request_id for r in replies] == [m.request_id for m in msgs]


@pytest.mark.parametrize(
    "table", [None, {}, {dict: "echo"}, {Echo: "missing_method"}],
)
def test_bad_handler_tables_fail_early(table):
    cls = type("Bad", (), {"handlers": table, "echo": lambda self, m: m})
    with pytest.raises(TypeError):
        check_handlers_table(cls)


def test_eager_start_finishes_without_a_task():
    async def plain() -> int:
        return 3

    async def main():
        return start_eagerly(plain())

    assert asyncio.run(main()) == (3, None)


def test_eager_start_hands_suspended_coroutines_to_a_task():
    async def slow() -> str:
        await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        return "done"

    async def failing() -> None:
        await asyncio.sleep(0)
        raise KeyError("late")

    async def main():
        value, task = start_eagerly(slow())
        assert value is None and task is not None
        _, bad = start_eagerly(failing())
        with pytest.raises(KeyError):
            await bad
        return await task

    assert asyncio.run(main()) == "done"


def test_eager_start_passes_cancellation_to_the_coroutine():
    seen = []

    async def waits() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main():
        _, task = start_eagerly(waits())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert seen == ["cancelled"]


def test_wire_is_plain_msgpack():
    """Any msgpack client can read the wire: a map per message with 'kind' first."""
    raw = msgpack.unpackb(encode_many([Echo(payload="x", request_id="r")]))
    assert raw == [{"kind": "echo/1", "request_id": "r", "trace_id": "", "payload": "x"}]
