"""The main job's flow with in-process agents: real stub server, real sandbox, real SQLite."""
from __future__ import annotations

import json

from agents.llm.prices import PriceTable
from store.tool_store import ToolStore

from .pipeline_helpers import (
    CORE_PROMPT, CORE_SORT_TOOL, CRASHING_TOOL, SOFT_REVIEW_TOOL, STRUCTURED_SORT_TOOL, WORD_SORT_TOOL, WRONG_TOOL,
    review_requests, run_lines, word_sort_requests, words_from_prompt)


async def test_tool_is_made_verified_stored_and_reused(llm_stub, tmp_path):
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    summary, records, config = await run_lines(llm_stub, tmp_path, word_sort_requests(30))
    assert len(records) == 30 and {r["id"] for r in records} == {f"w{i}" for i in range(30)}
    assert [m.ok for m in summary.made] == [True]
    assert len(llm_stub.calls("maker")) == 1
    tool_routed = [r for r in records if r["route"] == "tool"]
    assert len(tool_routed) == 30  # the six examples wait for the tool too
    assert all(r["correct"] for r in tool_routed)
    assert all(r["llm_calls"] == 0 for r in tool_routed)
    spec = ToolStore(config.store_path).find_by_task("word_sorting")
    assert spec is not None and spec.shape == "end_to_end" and len(spec.tests) == 3
    health = ToolStore(config.store_path).stats(spec.tool_id, spec.version)
    assert (health.uses, health.failures) == (30, 0)  # tool users recorded every call

    # A second run over new requests finds the stored tool: no maker call at all.
    llm_stub.reset()
    summary2, records2, _ = await run_lines(llm_stub, tmp_path, word_sort_requests(10, start=100))
    assert summary2.made == [] and all(r["route"] == "tool" for r in records2)
    assert llm_stub.calls() == []


async def test_making_fails_within_budget_and_the_solver_answers(llm_stub, tmp_path):
    llm_stub.script(CRASHING_TOOL, role="maker")
    llm_stub.script("apple banana", role="solver")
    summary, records, config = await run_lines(llm_stub, tmp_path, word_sort_requests(12))
    assert [m.ok for m in summary.made] == [False]
    assert "rounds exhausted" in summary.made[0].reason
    assert len(llm_stub.calls("maker")) == 2  # 1 sample x 2 rounds, then it stops
    assert all(r["route"] == "solver" and r["answer"] == "apple banana" for r in records)
    assert ToolStore(config.store_path).find_by_task("word_sorting") is None


async def test_malformed_lines_become_error_records(llm_stub, tmp_path):
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    lines = word_sort_requests(7) + ["{not json", json.dumps({"id": "x"}), json.dumps([1, 2]), ""]
    summary, records, _ = await run_lines(llm_stub, tmp_path, lines)
    errors = [r for r in records if r["route"] == "error"]
    assert len(errors) == 3 and all(e["error"]["code"] == "bad_request_line" for e in errors)
    assert summary.bad_lines == 3
    assert sum(r["route"] == "tool" for r in records) == 7


async def test_unlabelled_requests_use_solver_answers_as_examples(llm_stub, tmp_path):
    def solver(body):  # answers correctly by reading the words from the prompt
        text = body["messages"][-1]["content"]
        words = text.split("List:")[1].split("\n")[0].split()
        return " ".join(sorted(words))
    llm_stub.script(solver, role="solver")
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    lines = word_sort_requests(20, with_target=False, task=None)
    summary, records, _ = await run_lines(llm_stub, tmp_path, lines)
    assert [m.ok for m in summary.made] == [True]
    assert len(llm_stub.calls("solver")) == 6  # exactly the labels needed, no more
    assert sum(r["route"] == "tool" for r in records) == 14


async def test_soft_tool_is_verified_and_used_with_simulated_helpers(llm_stub, tmp_path):
    llm_stub.script(SOFT_REVIEW_TOOL, role="maker")
    llm_stub.script(lambda body: "True" if "love" in body["messages"][-1]["content"] else "False",
                    role="lmulator")
    summary, records, config = await run_lines(llm_stub, tmp_path, review_requests(10))
    assert [m.ok for m in summary.made] == [True]
    spec = ToolStore(config.store_path).find_by_task("review")
    assert spec.shape == "soft"
    assert all(r["route"] == "tool" and r["correct"] for r in records)
    assert all(r["usage"]["lmulator"]["calls"] >= 1 for r in records)  # helpers simulated per use
    # Verification simulated the helper on each of the 6 cases too; the run counts those calls.
    assert {u.role: u.calls for u in summary.made[0].spend.roles if u.role != "maker"} == {"lmulator": 6}
    figures = summary.figures(PriceTable(), "")
    assert figures["spend_by_role"]["lmulator"]["calls"] == len(llm_stub.calls("lmulator"))


async def test_structured_tool_when_end_to_end_fails(llm_stub, tmp_path):
    llm_stub.script(STRUCTURED_SORT_TOOL, role="maker", match="typed parameters")
    llm_stub.script(WRONG_TOOL, role="maker")
    llm_stub.script(words_from_prompt, role="user")
    summary, records, config = await run_lines(llm_stub, tmp_path, word_sort_requests(10),
                                               shapes=("end_to_end", "structured"), rounds=1)
    assert [m.ok for m in summary.made] == [True]
    spec = ToolStore(config.store_path).find_by_task("word_sorting")
    assert spec.shape == "structured" and spec.entry == "tool"
    assert all(r["route"] == "tool" and r["correct"] for r in records)
    assert all(r["usage"]["user"]["calls"] == 1 for r in records)  # one extraction per request
    # Verifying the structured candidate cost one extraction per case (3 train + 3 held out),
    # and the run's spend counts them beside the requests' own extractions.
    made = summary.made[0]
    assert [(u.role, u.calls) for u in made.spend.roles if u.role != "maker"] == [("user", 6)]
    user_calls = summary.figures(PriceTable(), "")["spend_by_role"]["user"]["calls"]
    assert user_calls == len(llm_stub.calls("user")) == 10 + 6


async def test_core_tool_is_wrapped_in_the_task_frame_and_reused(llm_stub, tmp_path):
    llm_stub.script(CORE_SORT_TOOL, role="maker", match=CORE_PROMPT)
    llm_stub.script(WRONG_TOOL, role="maker")
    summary, records, config = await run_lines(llm_stub, tmp_path, word_sort_requests(20),
                                               shapes=("core",), samples_per_round=2, rounds=1)
    assert [m.ok for m in summary.made] == [True]
    prompts = [c.messages[-1]["content"] for c in llm_stub.calls("maker")]
    # The model saw the instruction, not the whole question, and the two asks differ in kind.
    assert all("Sort the following words alphabetically" in p and "List:" not in p for p in prompts)
    assert any(CORE_PROMPT in p for p in prompts) and any("solve(text: str)" in p for p in prompts)
    spec = ToolStore(config.store_path).find_by_task("word_sorting")
    assert spec.shape == "end_to_end" and "core_solve(text.split())" in spec.code
    assert all(r["route"] == "tool" and r["correct"] and r["llm_calls"] == 0 for r in records)


async def test_a_stored_tool_that_passes_a_new_kinds_examples_is_reused_not_remade(llm_stub, tmp_path):
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    await run_lines(llm_stub, tmp_path, word_sort_requests(8))
    llm_stub.reset()
    llm_stub.script(WRONG_TOOL, role="maker")  # were anything made, it would fail
    # The same kind under another label: the task route misses, so its requests form a new group.
    summary, records, config = await run_lines(llm_stub, tmp_path,
                                               word_sort_requests(10, start=50, task="alphabetize"))
    made = summary.made[0]
    assert made.ok and made.reused and made.samples == 0 and made.tool.tool_id == "word_sorting"
    assert llm_stub.calls("maker") == []
    assert all(r["route"] == "tool" and r["tool_id"] == "word_sorting" and r["correct"] for r in records)
    assert summary.figures(PriceTable(), "")["tools_reused"] == 1
    # The label now routes to the tool directly: a later run needs no group and no verification.
    assert ToolStore(config.store_path).find_by_task("alphabetize").tool_id == "word_sorting"
    summary3, records3, _ = await run_lines(llm_stub, tmp_path,
                                            word_sort_requests(5, start=90, task="alphabetize"))
    assert summary3.made == [] and all(r["route"] == "tool" for r in records3)


async def test_a_stored_tool_that_fails_a_new_kinds_examples_is_not_reused(llm_stub, tmp_path):
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    await run_lines(llm_stub, tmp_path, word_sort_requests(8))
    llm_stub.reset()
    llm_stub.script(WORD_SORT_TOOL.replace("sorted(words)", "sorted(words, reverse=True)"), role="maker")
    reverse = [json.dumps({**row, "task": "reverse_sorting", "target": " ".join(sorted(row["target"].split(), reverse=True))})
               for row in map(json.loads, word_sort_requests(8, start=50))]
    summary, records, _ = await run_lines(llm_stub, tmp_path, reverse)
    made = summary.made[0]
    assert made.ok and not made.reused and len(llm_stub.calls("maker")) == 1
    assert all(r["correct"] for r in records)
