"""The call coalescer: calls of one tool made together share one sandbox round trip (real sandbox)."""
from __future__ import annotations

import asyncio

import pytest

from agents.sandbox import Sandbox, SandboxClosedError
from agents.using.coalescer import CallCoalescer

# The sandbox lives on one event loop: the fixtures and the tests share the session loop.
pytestmark = pytest.mark.asyncio(loop_scope="session")

UPPER = "def solve(text: str) -> str:\n    return text.upper()\n"
LENGTH = "def solve(text: str) -> int:\n    return len(text)\n"


class CountingSandbox(Sandbox):
    """A real sandbox that notes the size of every batch it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[tuple[str, int]] = []

    async def call_many(self, code, entry, arg_lists, **kwargs):
        self.batches.append((code, len(arg_lists)))
        return await super().call_many(code, entry, arg_lists, **kwargs)


@pytest.fixture
async def sandbox():
    box = CountingSandbox()
    await box.start()
    yield box
    await box.close()


async def test_concurrent_calls_of_one_tool_share_one_round_trip(sandbox):
    calls = CallCoalescer(sandbox, timeout_s=2.0)
    words = ["pear", "fig", "kiwi", "plum"]
    results = await asyncio.gather(*(calls.call(UPPER, "solve", [w]) for w in words))
    assert [r.value for r in results] == ["PEAR", "FIG", "KIWI", "PLUM"]  # each caller gets its own
    assert sandbox.batches == [(UPPER, 4)]


async def test_two_tools_called_together_get_a_batch_each(sandbox):
    calls = CallCoalescer(sandbox, timeout_s=2.0)
    results = await asyncio.gather(calls.call(UPPER, "solve", ["ab"]), calls.call(LENGTH, "solve", ["abc"]),
                                   calls.call(UPPER, "solve", ["cd"]))
    assert [r.value for r in results] == ["AB", 3, "CD"]
    assert sorted(sandbox.batches) == sorted([(UPPER, 2), (LENGTH, 1)])


async def test_a_full_batch_is_sent_at_once_and_the_rest_follows(sandbox):
    calls = CallCoalescer(sandbox, timeout_s=2.0, max_batch=3)
    results = await asyncio.gather(*(calls.call(LENGTH, "solve", ["x" * i]) for i in range(7)))
    assert [r.value for r in results] == list(range(7))
    assert [n for _, n in sandbox.batches] == [3, 3, 1]


async def test_calls_made_one_after_another_are_not_held_back(sandbox):
    calls = CallCoalescer(sandbox, timeout_s=2.0)
    assert (await calls.call(UPPER, "solve", ["a"])).value == "A"
    assert (await calls.call(UPPER, "solve", ["b"])).value == "B"
    assert sandbox.batches == [(UPPER, 1), (UPPER, 1)]


async def test_a_failed_sandbox_fails_every_waiter_of_the_batch():
    box = Sandbox()
    await box.start()
    await box.close()
    calls = CallCoalescer(box, timeout_s=2.0)
    results = await asyncio.gather(*(calls.call(UPPER, "solve", [w]) for w in "ab"), return_exceptions=True)
    assert [type(r) for r in results] == [SandboxClosedError, SandboxClosedError]
