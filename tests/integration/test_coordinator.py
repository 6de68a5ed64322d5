"""The coordinator driving kinds through their lifecycle: settling at input end, solver fallback,
remakes, failures remembered across runs, and serving mode (no waiting for making)."""
from __future__ import annotations

import io
import json
import threading

import pytest

from agents.pipeline.coordinator import Coordinator, CoordinatorConfig
from agents.pipeline.bootstrap import local_services
from agents.pipeline.request_lines import parse_line, to_request
from agents.pipeline.run import run_stream
from bus.wire.tool_spec import ToolSpec
from store.tool_store import ToolStore

from .pipeline_helpers import (
    CRASHING_TOOL, WORD_SORT_TOOL, make_config, run_lines, sorted_words_reply, word_sort_requests)


@pytest.mark.timeout(120)
async def test_short_stream_settles_groups_with_the_examples_it_has(llm_stub, tmp_path):
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    summary, records, _ = await run_lines(llm_stub, tmp_path, word_sort_requests(4))
    made = summary.made[0]
    assert made.ok and len(records) == 4
    maker_prompt = llm_stub.calls("maker")[0].messages[-1]["content"]
    assert maker_prompt.count("Question ") == 2  # 2 shown, 2 held out for validation
    assert all(r["route"] == "tool" for r in records)


@pytest.mark.timeout(120)
async def test_a_lone_request_of_a_kind_is_answered_by_the_solver(llm_stub, tmp_path):
    llm_stub.script("apple", role="solver")
    summary, records, _ = await run_lines(llm_stub, tmp_path, word_sort_requests(1))
    assert summary.made == [] and [r["route"] for r in records] == ["solver"]


async def test_tool_failure_falls_back_to_the_solver(llm_stub, tmp_path):
    flaky = WORD_SORT_TOOL.replace('    words = question.split("List:")[1].split()',
                                   '    words = question.split("List:")[1].split()\n'
                                   '    assert "zebra" not in words')
    llm_stub.script(flaky, role="maker")
    llm_stub.script(sorted_words_reply, role="solver")
    pairs = [("fig", "apple"), ("pear", "kiwi"), ("lime", "date"), ("plum", "a"), ("yam", "oat"), ("rye", "nut")]
    lines = [json.dumps({"id": f"z{i}", "task": "word_sorting", "target": " ".join(sorted(p)),
                         "input": f"Sort the following words alphabetically: List: {p[0]} {p[1]}"})
             for i, p in enumerate(pairs)]
    lines.append(json.dumps({"id": "zebra", "task": "word_sorting", "target": "apple zebra",
                             "input": "Sort the following words alphabetically: List: zebra apple"}))
    summary, records, _ = await run_lines(llm_stub, tmp_path, lines)
    by_id = {r["id"]: r for r in records}
    assert by_id["zebra"]["route"] == "solver" and by_id["zebra"]["correct"]
    assert by_id["zebra"]["tool_id"] == "word_sorting"  # the failed tool is named in the record
    assert all(r["route"] == "tool" for r in records if r["id"] != "zebra")


async def test_a_failed_kind_is_made_again_from_fresh_examples(llm_stub, tmp_path):
    llm_stub.script_sequence([CRASHING_TOOL, CRASHING_TOOL], role="maker")  # attempt 1: 2 rounds
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    llm_stub.script("apple banana", role="solver")
    summary, records, config = await run_lines(llm_stub, tmp_path, word_sort_requests(30),
                                               coordinator=CoordinatorConfig(remake_after=5))
    assert [m.ok for m in summary.made] == [False, True]
    first, second = (c.messages[-1]["content"] for c in llm_stub.calls("maker")[::2][:2])
    # The second attempt was shown other requests than the first.
    assert first != second
    spec = ToolStore(config.store_path).find_by_task("word_sorting")
    assert spec is not None and "sorted(words)" in spec.code
    assert len(records) == 30 and all(r["route"] in ("solver", "tool") for r in records)


async def test_remake_after_zero_keeps_one_attempt(llm_stub, tmp_path):
    llm_stub.script(CRASHING_TOOL, role="maker")
    llm_stub.script("apple banana", role="solver")
    summary, _, _ = await run_lines(llm_stub, tmp_path, word_sort_requests(30),
                                    coordinator=CoordinatorConfig(remake_after=0))
    assert [m.ok for m in summary.made] == [False]


async def test_a_kind_that_failed_in_an_earlier_run_skips_making_until_cleared(llm_stub, tmp_path):
    llm_stub.script(CRASHING_TOOL, role="maker")
    llm_stub.script("apple banana", role="solver")
    _, _, config = await run_lines(llm_stub, tmp_path, word_sort_requests(8))
    store = ToolStore(config.store_path)
    assert store.failures.list("word_sorting")[0].attempts == 1
    llm_stub.reset()
    llm_stub.script("apple banana", role="solver")
    summary, records, _ = await run_lines(llm_stub, tmp_path, word_sort_requests(8, start=20))
    assert summary.made == [] and llm_stub.calls("maker") == []  # straight to the solver
    assert all(r["route"] == "solver" for r in records)
    store.failures.clear()
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    summary, records, _ = await run_lines(llm_stub, tmp_path, word_sort_requests(8, start=40))
    assert [m.ok for m in summary.made] == [True] and store.failures.list() == []


async def test_requests_do_not_wait_for_making_when_serving(llm_stub, tmp_path):
    gate = threading.Event()

    def gated_maker(body: dict) -> str:
        gate.wait(timeout=30)
        return WORD_SORT_TOOL
    llm_stub.script(gated_maker, role="maker")
    llm_stub.script(sorted_words_reply, role="solver")
    config = make_config(tmp_path)
    services = local_services(llm_stub.config(), config)
    await services.start()
    coordinator = Coordinator(services, CoordinatorConfig(wait_for_tool=False))
    requests = [to_request(parse_line(line, i), "run") for i, line in
                enumerate(word_sort_requests(8, with_target=False, task=None))]
    try:
        first = [await coordinator.answer(req) for req in requests[:6]]  # the solver labels six examples
        assert [a.route for a in first] == ["solver"] * 6
        group = coordinator.groups.get(requests[6].text, None)
        assert group.state == "making"
        during = await coordinator.answer(requests[6])  # the maker is held at the gate: no waiting for it
        assert during.route == "solver" and group.state == "making"
        assert during.answer == " ".join(sorted(requests[6].text.split("List: ")[1].split()))
        gate.set()
        await coordinator.drain()
        after = await coordinator.answer(requests[7])
        assert after.route == "tool" and after.spend.calls == 0
    finally:
        gate.set()
        await services.close()


async def test_a_dispatched_version_its_store_lacks_takes_the_new_task_path(llm_stub, tmp_path):
    llm_stub.script("fig pear", role="solver")
    config = make_config(tmp_path)
    ToolStore(config.store_path).put(ToolSpec(tool_id="word_sorting", task="word_sorting",
                                              code="def solve(question: str) -> str:\n    return 'tool'\n"))
    services = local_services(llm_stub.config(), config)
    services.store = ToolStore(tmp_path / "elsewhere.sqlite")  # the dispatcher's file has the tool, this one not
    out = io.StringIO()
    try:
        await services.start()
        await run_stream(word_sort_requests(1), services, out, config.coordinator)
    finally:
        await services.close()
    [record] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["route"] == "solver" and record["answer"] == "fig pear"  # never a tool it could not send
