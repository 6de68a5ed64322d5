"""Kinds sent to the maker together are made in turn, so the first is ready before the last starts."""
from __future__ import annotations

import asyncio
import json

from agents.making.maker import Maker, MakerConfig
from bus.wire.messages import MakeTool
from bus.wire.tool_spec import Example

from .pipeline_helpers import WRONG_TOOL, word_sort_requests


def make_tool(task: str, marker: str) -> MakeTool:
    """A making request whose examples carry a marker word, so each LLM call shows its kind."""
    rows = [json.loads(line) for line in word_sort_requests(6, task=task)]
    examples = [Example(input=f"{r['input']} {marker}", target=f"{r['target']} {marker}") for r in rows]
    return MakeTool(task=task, train=examples[:3], validation=examples[3:])


async def test_a_busy_maker_makes_one_kind_at_a_time_in_arrival_order(llm_stub):
    llm_stub.script(WRONG_TOOL, role="maker")
    config = MakerConfig(samples_per_round=2, rounds=2, shapes=("end_to_end",))
    # Concurrency 2 serves one making's round of 2 samples: one making at a time.
    maker = Maker(llm_stub.config(concurrency=2), config)
    try:
        made = await asyncio.gather(maker.make(make_tool("first", "kind-one")),
                                    maker.make(make_tool("second", "kind-two")))
    finally:
        await maker.close()
    assert [m.ok for m in made] == [False, False]
    kinds = ["kind-one" if "kind-one" in json.dumps(c.messages) else "kind-two" for c in llm_stub.calls("maker")]
    assert kinds == ["kind-one"] * 4 + ["kind-two"] * 4


async def test_a_maker_with_room_for_two_rounds_makes_two_kinds_at_once(llm_stub):
    llm_stub.script(WRONG_TOOL, role="maker")
    config = MakerConfig(samples_per_round=2, rounds=2, shapes=("end_to_end",))
    maker = Maker(llm_stub.config(concurrency=4), config)
    try:
        await asyncio.gather(maker.make(make_tool("first", "kind-one")), maker.make(make_tool("second", "kind-two")))
    finally:
        await maker.close()
    kinds = ["kind-one" if "kind-one" in json.dumps(c.messages) else "kind-two" for c in llm_stub.calls("maker")]
    # Both kinds' first rounds are drawn before either kind's second round.
    assert sorted(kinds[:4]) == ["kind-one", "kind-one", "kind-two", "kind-two"]
